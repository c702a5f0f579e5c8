"""The additive structure of a table: which cells sum to which, as one sparse matrix.

Every relation is `parent = sum(children)` along one dimension with the other dimensions fixed
at any value (margins included), so the margins of an N-dimensional table and every level of a
declared hierarchy are covered. Row i of `relations` holds -1 at the parent and +1 at each child.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ctdata.disclosure.spec import SuppressionSpec
from ctdata.errors import DisclosureError

MAX_LISTED = 5


@dataclass
class TableStructure:
    """Cells are the table's rows (in their order); relations index those rows."""

    dimensions: list[str]
    levels: list[list[str]]
    codes: np.ndarray  # (rows, dims) position of each row's value in its dimension's levels
    relations: sp.csr_matrix
    aggregation: np.ndarray  # per row, how many dimensions sit at a margin or inner level
    # per dimension: parent level index -> child level indices (the 1-D relations)
    children: list[dict[int, list[int]]] = field(default_factory=list)

    @property
    def n_cells(self) -> int:
        return int(self.codes.shape[0])

    def label(self, row: int) -> dict[str, str]:
        return {d: self.levels[k][self.codes[row, k]] for k, d in enumerate(self.dimensions)}


def rows_text(table: pd.DataFrame, dims: list[str], rows: np.ndarray | list[int]) -> str:
    """Name rows for people: CSV line number (header is line 1) and dimension values."""
    rows = list(rows)
    shown = [
        f"line {r + 2} ("
        + ", ".join(f"{d}={table[d].iloc[r]}" for d in dims if d in table.columns)
        + ")"
        for r in rows[:MAX_LISTED]
    ]
    more = f" and {len(rows) - MAX_LISTED} more" if len(rows) > MAX_LISTED else ""
    return "; ".join(shown) + more


def _parents(spec: SuppressionSpec, dim: str, levels: list[str]) -> dict[str, list[str]]:
    """parent value -> child values for one dimension (flat: Total -> all others)."""
    total = spec.total_label
    if total not in levels:
        raise DisclosureError(
            f"dimension {dim!r} has no margin rows: add rows with {dim}={total!r} "
            f"(the spec's total_label) holding the sums over {dim}"
        )
    mapping = (spec.hierarchy or {}).get(dim)
    if mapping is None:
        return {total: [v for v in levels if v != total]}
    known = set(levels)
    unmapped = [v for v in levels if v != total and v not in mapping]
    if unmapped:
        raise DisclosureError(
            f"hierarchy for {dim!r} gives no parent for values {unmapped[:MAX_LISTED]}: "
            f"map each value to its parent (the top parent is {total!r})"
        )
    missing = sorted({p for p in mapping.values() if p not in known} | (set(mapping) - known))
    if missing:
        raise DisclosureError(
            f"hierarchy for {dim!r} names values absent from column {dim!r}: "
            f"{missing[:MAX_LISTED]}; add their rows or fix the hierarchy"
        )
    children: dict[str, list[str]] = {}
    for child in levels:
        if child in mapping:
            children.setdefault(mapping[child], []).append(child)
    _check_acyclic(dim, mapping, total)
    return children


def _check_acyclic(dim: str, mapping: dict[str, str], total: str) -> None:
    for start in mapping:
        seen, node = {start}, start
        while node != total:
            node = mapping[node]
            if node in seen:
                raise DisclosureError(f"hierarchy for {dim!r} has a cycle through {node!r}")
            seen.add(node)


def build_structure(table: pd.DataFrame, spec: SuppressionSpec) -> TableStructure:
    """Index the cube and list every additive relation; the table must hold every cell once."""
    dims = spec.dimensions
    levels: list[list[str]] = []
    codes = np.empty((len(table), len(dims)), dtype=np.int64)
    for k, dim in enumerate(dims):
        values = table[dim].astype(str)
        if table[dim].isna().any():
            bad = np.flatnonzero(table[dim].isna().to_numpy())
            raise DisclosureError(
                f"column {dim!r} is empty at {rows_text(table, dims, bad)}: every row needs a value"
            )
        cat = pd.Categorical(values, categories=pd.unique(values))
        levels.append([str(v) for v in cat.categories])
        codes[:, k] = cat.codes
    shape = tuple(len(lv) for lv in levels)
    pos = np.full(shape, -1, dtype=np.int64)
    flat = np.ravel_multi_index(tuple(codes.T), shape) if len(table) else np.array([], int)
    counts = np.bincount(flat, minlength=int(np.prod(shape)))
    if (counts > 1).any():
        dup = np.flatnonzero(counts[flat] > 1)
        raise DisclosureError(
            f"rows repeat the same combination of {dims}: {rows_text(table, dims, dup)}; "
            "keep one row per cell"
        )
    pos.ravel()[flat] = np.arange(len(table))
    if (pos < 0).any():
        missing = np.argwhere(pos < 0)[:MAX_LISTED]
        names = [
            ", ".join(f"{d}={levels[k][i]}" for k, (d, i) in enumerate(zip(dims, m, strict=True)))
            for m in missing
        ]
        raise DisclosureError(
            f"the table lacks {(pos < 0).sum()} cells of the full cube, e.g. ({'); ('.join(names)}): "
            "every combination of dimension values, margins included, needs a row (zero if empty)"
        )
    rel_rows, rel_cols, rel_vals, n_rel = [], [], [], 0
    aggregation = np.zeros(len(table), dtype=np.int64)
    children_of: list[dict[int, list[int]]] = []
    for k, dim in enumerate(dims):
        parents = _parents(spec, dim, levels[k])
        index = {v: i for i, v in enumerate(levels[k])}
        children_of.append({index[p]: [index[c] for c in cs] for p, cs in parents.items()})
        for parent, children in parents.items():
            aggregation[codes[:, k] == index[parent]] += 1
            p_cells = np.take(pos, index[parent], axis=k).ravel()
            m = p_cells.size
            ids = np.arange(n_rel, n_rel + m)
            rel_rows.append(ids)
            rel_cols.append(p_cells)
            rel_vals.append(np.full(m, -1.0))
            for child in children:
                rel_rows.append(ids)
                rel_cols.append(np.take(pos, index[child], axis=k).ravel())
                rel_vals.append(np.ones(m))
            n_rel += m
    relations = sp.csr_matrix(
        (np.concatenate(rel_vals), (np.concatenate(rel_rows), np.concatenate(rel_cols))),
        shape=(n_rel, len(table)),
    )
    return TableStructure(dims, levels, codes, relations, aggregation, children_of)
