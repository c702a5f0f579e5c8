"""Refuse tables the engine cannot protect: unknown columns, bad counts, margins that do not add."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctdata.disclosure.spec import SuppressionSpec
from ctdata.disclosure.structure import TableStructure, build_structure, rows_text
from ctdata.errors import DisclosureError


def check_columns(table: pd.DataFrame, spec: SuppressionSpec, *, rates: bool = True) -> None:
    needed = list(spec.dimensions) + list(spec.counts)
    if rates:
        needed += [r.denominator for r in spec.rates]
    missing = [c for c in dict.fromkeys(needed) if c not in table.columns]
    if missing:
        raise DisclosureError(
            f"the spec names columns {missing} that the table lacks "
            f"(it has {list(table.columns)}): fix the spec or the file"
        )


def parse_counts(
    table: pd.DataFrame, spec: SuppressionSpec, column: str, *, allow_null: bool = False
) -> np.ndarray:
    """Counts as float (NaN where published null); errors name the rows."""
    raw = table[column]
    numeric = pd.to_numeric(raw, errors="coerce").astype(float).to_numpy()
    present = raw.notna().to_numpy() & ~(raw.astype(str).str.strip() == "").to_numpy()
    dims = spec.dimensions
    bad = np.flatnonzero(present & np.isnan(numeric))
    if bad.size:
        raise DisclosureError(
            f"count column {column!r} holds non-numbers at {rows_text(table, dims, bad)}"
        )
    if not allow_null and (~present).any():
        bad = np.flatnonzero(~present)
        raise DisclosureError(
            f"count column {column!r} is empty at {rows_text(table, dims, bad)}: "
            "write 0 for cells with no records"
        )
    finite = ~np.isnan(numeric)
    bad = np.flatnonzero(finite & (numeric != np.round(numeric)))
    if bad.size:
        raise DisclosureError(
            f"count column {column!r} has non-integers at {rows_text(table, dims, bad)}"
        )
    bad = np.flatnonzero(finite & (numeric < 0))
    if bad.size:
        raise DisclosureError(
            f"count column {column!r} has negative counts at {rows_text(table, dims, bad)}"
        )
    numeric[~present] = np.nan
    return numeric


def check_margins(
    table: pd.DataFrame, spec: SuppressionSpec, structure: TableStructure, column: str
) -> None:
    """Every parent equals the sum of its children (only where all of them are known)."""
    x = parse_counts(table, spec, column, allow_null=True)
    known = ~np.isnan(x)
    rel = structure.relations
    complete = np.asarray(abs(rel) @ (~known).astype(float)).ravel() == 0
    residual = rel @ np.where(known, x, 0.0)
    broken = np.flatnonzero(complete & (np.abs(residual) > 0.5))
    if broken.size:
        parents = [
            int(
                rel.indices[rel.indptr[r] : rel.indptr[r + 1]][
                    rel.data[rel.indptr[r] : rel.indptr[r + 1]] < 0
                ][0]
            )
            for r in broken
        ]
        parents = list(dict.fromkeys(parents))
        detail = rows_text(table, spec.dimensions, parents)
        raise DisclosureError(
            f"margins of {column!r} do not add up at {detail}: each total must equal the sum "
            "of its parts; recompute the margin rows"
        )


def validate_table(table: pd.DataFrame, spec: SuppressionSpec) -> TableStructure:
    """Check an unsuppressed table fully; returns its additive structure for reuse."""
    check_columns(table, spec)
    for column in spec.counts:
        parse_counts(table, spec, column)
    for rate in spec.rates:
        den = pd.to_numeric(table[rate.denominator], errors="coerce")
        bad = np.flatnonzero((table[rate.denominator].notna() & den.isna()).to_numpy())
        bad = np.union1d(bad, np.flatnonzero((den < 0).to_numpy()))
        if bad.size:
            raise DisclosureError(
                f"denominator column {rate.denominator!r} has non-numbers or negatives at "
                f"{rows_text(table, spec.dimensions, bad)}"
            )
    structure = build_structure(table, spec)
    for column in spec.counts:
        check_margins(table, spec, structure, column)
    return structure
