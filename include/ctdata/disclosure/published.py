"""Releases read back from what is public: a table as the portal serves it, or a kept CSV export.

The attacker's view of a release: shown values only (truth unknown). A count table's blank count
is a suppressed cell (at least 1: zeros are never suppressed); a record-level table is counted
by its quasi-identifiers (see records.py). Hidden record groups get no upper bound here: the
pipeline's published rule also generalizes larger groups to protect the linked tables, so an
outsider cannot assume a hidden group is small (the pipeline's own audit, which knows which
groups it generalized and why, grants the attacker that knowledge).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctdata.disclosure.records import RecordsRule
from ctdata.disclosure.release import ALL, INF, Release, canonical_hierarchy
from ctdata.disclosure.spec import AggregationSpec
from ctdata.errors import DisclosureError


def count_table_release(
    table: pd.DataFrame, spec: AggregationSpec, name: str, snapshot: str, seq: int
) -> Release:
    """A published count table (every cell and margin; blank count = suppressed)."""
    dims = [d.column for d in spec.dimensions]
    missing = [c for c in [*dims, spec.count_column] if c not in table.columns]
    if missing:
        raise DisclosureError(f"{name}: the published table lacks columns {missing}")
    cells = pd.DataFrame({d: _labels(table[d]).replace(spec.total_label, ALL) for d in dims})
    count = pd.to_numeric(table[spec.count_column], errors="coerce").to_numpy(dtype=float)
    cells["truth"] = np.nan
    cells["shown"] = count
    cells["low"] = np.where(np.isnan(count), 1.0, 0.0)
    cells["high"] = INF
    hierarchy = canonical_hierarchy(spec.to_suppression_spec().hierarchy, spec.total_label)
    return Release(name, snapshot, seq, "aggregate", dims, cells.reset_index(drop=True),
                   spec.threshold, hierarchy)  # fmt: skip


def records_release(
    records: pd.DataFrame,
    rule: RecordsRule,
    domains: dict[str, list[str]],
    name: str,
    snapshot: str,
    seq: int,
) -> Release:
    """A published record-level table counted by its quasi-identifiers: visible atoms, and the
    margins its "Suppressed" groups complete."""
    dims = list(rule.quasi_identifiers)
    missing = [c for c in dims if c not in records.columns]
    if missing:
        raise DisclosureError(f"{name}: the published records lack columns {missing}")
    labels = pd.DataFrame({d: _labels(records[d]) for d in dims})
    levels = {d: list(dict.fromkeys([*domains.get(d, []), *sorted(set(labels[d]) - {rule.label})]))
              for d in dims}  # fmt: skip
    index = pd.MultiIndex.from_product([[*levels[d], ALL] for d in dims], names=dims)
    cells = index.to_frame(index=False)
    counts = labels.value_counts()
    pattern_count = {tuple(k): int(v) for k, v in counts.items()}
    shown = np.full(len(cells), np.nan)
    keys = [tuple(r) for r in cells[dims].itertuples(index=False)]
    generalized = [dims.index(g) for g in rule.generalize]
    for i, key in enumerate(keys):
        level = _level(key, generalized)
        if level == 0:
            shown[i] = pattern_count.get(key, np.nan)
        elif level > 0:
            label_key = tuple(rule.label if j in generalized[:level] else v
                              for j, v in enumerate(key))  # fmt: skip
            if label_key in pattern_count:  # shown: its records complete the margin
                shown[i] = _records_under(labels, dims, key)
    cells["truth"] = np.nan
    cells["shown"] = shown
    cells["low"] = 0.0
    cells["high"] = INF
    return Release(name, snapshot, seq, "records", dims, cells, rule.threshold)


def _level(key: tuple[str, ...], generalized: list[int]) -> int:
    """0 for an atom, j for a cell with the first j generalized columns at ALL and every other
    column a real value, -1 otherwise."""
    at_all = [v == ALL for v in key]
    if not any(at_all):
        return 0
    j = sum(1 for g in generalized if at_all[g])
    if j and all(at_all[g] for g in generalized[:j]) and sum(at_all) == j:
        return j
    return -1


def _records_under(labels: pd.DataFrame, dims: list[str], key: tuple[str, ...]) -> float:
    """Published records of the people in a margin: those matching the key's real values
    (every record of them is there, generalized or not, since the group completing it is shown)."""
    match = np.ones(len(labels), bool)
    for d, v in zip(dims, key, strict=True):
        if v != ALL:
            match &= (labels[d] == v).to_numpy()
    return float(match.sum())


def _labels(column: pd.Series) -> pd.Series:
    """Labels as text, the way the cube writes them ('2012', not '2012.0')."""
    values = column
    if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        values = values.astype("Int64")
    return values.astype("string").fillna("Unknown").astype(str).str.strip()
