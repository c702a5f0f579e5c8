"""Record-level rows to a full cube of counts: every category, every margin, every level.

Each dimension's output levels are its domain (leaves), then the inner levels of its hierarchy
(e.g. counties), then the total; a 0/1 matrix maps leaves to the levels that contain them, so
margins come from one tensor product per dimension and always add up.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ctdata.disclosure.reference import read_reference, require_columns
from ctdata.disclosure.spec import AggregationSpec, DimensionSpec
from ctdata.errors import DisclosureError

logger = logging.getLogger(__name__)


def _codes(
    records: pd.DataFrame, dim: DimensionSpec, domain: list[str], outside: _Outside
) -> np.ndarray:
    """Each record's position in the dimension's domain; records outside it are noted in
    `outside` (and counted under the missing label, when the dimension has one)."""
    col = dim.input_column
    if col not in records.columns:
        raise DisclosureError(
            f"dimension {dim.column!r} reads column {col!r}, absent from the records "
            f"(they have {list(records.columns)})"
        )
    raw = records[col]
    if dim.range is not None:
        num = pd.to_numeric(raw, errors="coerce")
        text = num.map(lambda v: str(int(v)) if pd.notna(v) and v == int(v) else None)
    else:
        text = raw.map(lambda v: None if pd.isna(v) else str(v).strip())
    index = {v: i for i, v in enumerate(domain)}
    codes = text.map(index).to_numpy(dtype=float)
    missing = np.isnan(codes)
    if missing.any():
        outside.note(dim, np.flatnonzero(missing))
        if dim.missing_label is not None:
            codes[missing] = index[dim.missing_label]
    return np.nan_to_num(codes).astype(np.int64)


class _Outside:
    """Records outside a dimension's domain over every batch: counted, the first rows kept."""

    def __init__(self) -> None:
        self.first_row = 1  # the table's row number of the current batch's first record
        self.found: dict[str, tuple[int, list[int]]] = {}

    def note(self, dim: DimensionSpec, positions: np.ndarray) -> None:
        if dim.missing_label is not None:
            return
        count, rows = self.found.get(dim.column, (0, []))
        rows = rows + [self.first_row + int(p) for p in positions[: 5 - len(rows)]]
        self.found[dim.column] = (count + len(positions), rows)

    def raise_any(self, spec: AggregationSpec) -> None:
        for dim in spec.dimensions:
            if dim.column in self.found:
                count, rows = self.found[dim.column]
                # Row numbers, not values: the records may be confidential and this reaches logs.
                raise DisclosureError(
                    f"column {dim.input_column!r} has {count} values outside the domain of "
                    f"{dim.column!r} (rows {', '.join(map(str, rows))}): extend the domain or "
                    "set missing_label"
                )


def _rollup(domain: list[str], mapping: dict[str, str], total: str) -> tuple[list[str], np.ndarray]:
    """Output levels and the 0/1 matrix (levels x leaves) saying which leaves each level sums."""
    inner = list(dict.fromkeys(p for p in mapping.values() if p != total and p not in domain))
    levels = domain + [p for p in inner if p not in domain] + [total]
    pos = {v: i for i, v in enumerate(levels)}
    matrix = np.zeros((len(levels), len(domain)), dtype=np.int64)
    for j, leaf in enumerate(domain):
        node = leaf
        matrix[pos[node], j] = 1
        while node != total:
            node = mapping.get(node, total)
            matrix[pos[node], j] = 1
    return levels, matrix


def _apply(cube: np.ndarray, matrices: list[np.ndarray]) -> np.ndarray:
    for axis, m in enumerate(matrices):
        cube = np.moveaxis(np.tensordot(m, cube, axes=([1], [axis])), 0, axis)
    return cube


def aggregate(records: pd.DataFrame, spec: AggregationSpec) -> pd.DataFrame:
    """The full cube with every category and all margins (total_label), integer counts."""
    return aggregate_batches([records], spec)


def aggregate_batches(batches: Iterable[pd.DataFrame], spec: AggregationSpec) -> pd.DataFrame:
    """`aggregate` of the records read batch by batch: each batch's leaf counts are added up,
    so the records are never held whole (the cube is small)."""
    total = spec.total_label
    domains = [d.domain() for d in spec.dimensions]
    for d, dom in zip(spec.dimensions, domains, strict=True):
        if total in dom:
            raise DisclosureError(
                f"dimension {d.column!r} has a category named {total!r}, "
                "the total label: rename it or change total_label"
            )
    shape = tuple(len(dom) for dom in domains)
    leaves = np.zeros(int(np.prod(shape)), dtype=np.int64)
    outside, records_in = _Outside(), 0
    for records in batches:
        codes = [_codes(records, d, dom, outside)
                 for d, dom in zip(spec.dimensions, domains, strict=True)]  # fmt: skip
        flat = np.ravel_multi_index(tuple(codes), shape) if len(records) else np.array([], int)
        leaves += np.bincount(flat, minlength=leaves.size)
        outside.first_row += len(records)
        records_in += len(records)
    outside.raise_any(spec)
    leaves = leaves.reshape(shape)
    rolled = [
        _rollup(dom, d.hierarchy(total), total)
        for d, dom in zip(spec.dimensions, domains, strict=True)
    ]
    cube = _apply(leaves, [m for _, m in rolled])
    levels = [lv for lv, _ in rolled]
    combos = list(itertools.product(*levels))
    out = pd.DataFrame(combos, columns=[d.column for d in spec.dimensions])
    out[spec.count_column] = cube.reshape(-1).astype(np.int64)
    if spec.denominators is not None:
        out[spec.denominators.column] = _denominators(spec, domains, rolled)
    for rate in spec.rates:
        if rate.denominator not in out.columns:
            raise DisclosureError(
                f"rate {rate.column!r} needs denominator column {rate.denominator!r}: "
                "declare it under denominators"
            )
        den = out[rate.denominator].astype(float)
        out[rate.column] = out[rate.numerator] / den.where(den > 0) * rate.per
    logger.info(
        "Aggregated %d records into %d cells over %s (every category and margin)",
        records_in,
        len(out),
        " x ".join(d.column for d in spec.dimensions),
    )
    return out


def _denominators(
    spec: AggregationSpec, domains: list[list[str]], rolled: list[tuple[list[str], np.ndarray]]
) -> np.ndarray:
    """Denominators for every output cell: summed over leaves like the counts."""
    den = spec.denominators
    assert den is not None
    names = [d.column for d in spec.dimensions]
    unknown = [k for k in den.keys if k not in names]
    if unknown:
        raise DisclosureError(f"denominators.keys {unknown} are not dimensions {names}")
    ref = read_reference(den.path)
    require_columns(ref, [*den.keys, den.column], f"denominator file {den.path}")
    axes = [names.index(k) for k in den.keys]
    shape = tuple(len(domains[a]) for a in axes)
    leaf = np.full(shape, np.nan)
    index = [{v: i for i, v in enumerate(domains[a])} for a in axes]
    values = pd.to_numeric(ref[den.column], errors="coerce").to_numpy(dtype=float)
    for row, value in zip(ref[den.keys].itertuples(index=False), values, strict=True):
        pos = tuple(ix.get(str(v).strip()) for ix, v in zip(index, row, strict=True))
        if None not in pos:
            leaf[pos] = value
    summed = _apply(np.nan_to_num(leaf), [rolled[a][1] for a in axes])
    incomplete = _apply(np.isnan(leaf).astype(float), [rolled[a][1] for a in axes]) > 0
    summed = np.where(incomplete, np.nan, summed)
    full_shape = [len(rolled[a][0]) if a in axes else 1 for a in range(len(names))]
    order = np.argsort(axes)
    summed = np.transpose(summed, order).reshape(full_shape)
    target = tuple(len(lv) for lv, _ in rolled)
    return np.broadcast_to(summed, target).reshape(-1).copy()
