"""Builders for small hand-made and random tables with margins (independent of `aggregate`),
imported by name by the tests of this folder."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

TOTAL = "Total"


def build_table(
    leaves: np.ndarray,
    names: list[str],
    groups: dict[str, dict[str, str]] | None = None,
    column: str = "n",
) -> pd.DataFrame:
    """Full table with margins from a leaf cube; `groups[dim]` maps leaf -> inner parent.

    Dimension k's leaves are labelled f"{name}{i}"; inner parents come after the leaves, then
    the total, and each level's value is summed from the leaves below it.
    """
    groups = groups or {}
    level_lists: list[list[tuple[str, list[int]]]] = []
    for k, name in enumerate(names):
        leaf_labels = [f"{name}{i}" for i in range(leaves.shape[k])]
        levels = [(lab, [i]) for i, lab in enumerate(leaf_labels)]
        parents: dict[str, list[int]] = {}
        for i, lab in enumerate(leaf_labels):
            if lab in groups.get(name, {}):
                parents.setdefault(groups[name][lab], []).append(i)
        levels += list(parents.items())
        levels.append((TOTAL, list(range(leaves.shape[k]))))
        level_lists.append(levels)
    rows = []
    for combo in itertools.product(*level_lists):
        index = np.ix_(*[members for _, members in combo])
        rows.append([lab for lab, _ in combo] + [int(leaves[index].sum())])
    return pd.DataFrame(rows, columns=[*names, column])


def hierarchy_for(names: list[str], groups: dict[str, dict[str, str]]) -> dict:
    """The spec's hierarchy: leaf -> parent, parent -> Total, leaves outside groups -> Total."""
    out: dict[str, dict[str, str]] = {}
    for name, mapping in groups.items():
        full = dict(mapping)
        for parent in dict.fromkeys(mapping.values()):
            full[parent] = TOTAL
        out[name] = full
    return out


def refreshed(deaths: pd.DataFrame, seed: int = 1) -> tuple[pd.DataFrame, tuple[str, int]]:
    """The issue's second release: one town-year cell falls from 27 to 4 (23 deaths re-coded
    to Hartford), and a few deaths first placed in a town where they were alone that year are
    re-coded to Hartford too (a corrected address), so their small cells become zero."""
    rng = np.random.default_rng(seed)
    out = deaths.copy()
    size = out.groupby(["death_town", "year"]).size()
    town, year = size[size == 27].index[0]
    rows = out.index[(out.death_town == town) & (out.year == year)][:23]
    out.loc[rows, "death_town"] = "Hartford"
    alone = size[size == 1].index
    picked = [alone[i] for i in rng.choice(len(alone), 8, replace=False)]
    for t, y in picked:
        out.loc[(out.death_town == t) & (out.year == y), "death_town"] = "Hartford"
    return out, (town, int(year))
