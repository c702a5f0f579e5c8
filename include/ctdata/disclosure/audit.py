"""Audit a suppression pattern: can anyone pin down a suppressed cell from what is published?"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ctdata.disclosure.lp import Intervals, feasible_intervals, integer_width
from ctdata.disclosure.spec import SuppressionSpec
from ctdata.disclosure.structure import TableStructure, build_structure, rows_text
from ctdata.disclosure.validate import check_columns, check_margins, parse_counts
from ctdata.errors import DisclosureError

Status = Literal["safe", "exact", "narrow", "inconsistent", "published_small", "rate_published"]
FAILING = {"exact", "narrow", "inconsistent", "published_small", "rate_published"}

logger = logging.getLogger(__name__)


@dataclass
class CellInterval:
    """One suppressed (or wrongly published) cell and the values consistent with the table.

    `proven` is True when lower/upper are LP optima; False when they are values actually seen
    in feasible solutions (the true interval is at least that wide, which suffices to pass).
    """

    row: int
    labels: dict[str, str]
    column: str
    lower: float
    upper: float
    status: Status
    true_value: int | None = None
    proven: bool = True

    @property
    def failed(self) -> bool:
        return self.status in FAILING

    def describe(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.labels.items())
        up = "inf" if math.isinf(self.upper) else f"{self.upper:g}"
        truth = "" if self.true_value is None else f" true={self.true_value}"
        mark = "" if self.proven else " (at least)"
        return f"line {self.row + 2} [{where}] {self.column}: [{self.lower:g}, {up}]{mark}{truth} {self.status}"


@dataclass
class AuditReport:
    """Result of an audit; `passed` is what the publish step's expectation checks."""

    cells: list[CellInterval] = field(default_factory=list)
    threshold: int = 5
    protection: str = "exact"

    @property
    def failures(self) -> list[CellInterval]:
        return [c for c in self.cells if c.failed]

    @property
    def passed(self) -> bool:
        return not self.failures

    def status_counts(self) -> dict[str, int]:
        """How many cells have each status, e.g. {"safe": 1750, "exact": 2}."""
        return dict(Counter(c.status for c in self.cells))

    def headline(self) -> str:
        """Counts only, never a cell's interval (which is its value when exact): safe for logs,
        task failures and alerts."""
        suppressed = sum(c.status not in {"published_small", "rate_published"} for c in self.cells)
        failing = Counter(c.status for c in self.failures)
        kinds = f" ({', '.join(f'{n} {s}' for s, n in sorted(failing.items()))})" if failing else ""
        return (
            f"audit {'passed' if self.passed else 'FAILED'}: {suppressed} suppressed cells, "
            f"{len(self.failures)} failing{kinds}; protection={self.protection}, "
            f"threshold={self.threshold}"
        )

    def summary(self) -> str:
        """The headline and each failing cell with its interval: for `ctdata audit`, run by
        someone who holds the table, not for logs."""
        lines = [self.headline()] + [f"  {c.describe()}" for c in self.failures[:20]]
        if len(self.failures) > 20:
            lines.append(f"  ... and {len(self.failures) - 20} more")
        return "\n".join(lines)


def classify(lower: float, upper: float, threshold: int, interval: bool) -> Status:
    if math.isnan(lower) or math.isnan(upper):
        return "inconsistent"
    lo, hi = np.array([lower]), np.array([upper])
    if integer_width(lo, hi)[0] < 1:
        return "exact"
    if interval and upper < threshold + 1 - 1e-6:
        return "narrow"
    return "safe"


def audit_column(
    structure: TableStructure,
    values: np.ndarray,
    suppressed: np.ndarray,
    spec: SuppressionSpec,
    column: str,
    *,
    truth_known: bool,
    fast: bool,
    intervals: Intervals | None = None,
) -> list[CellInterval]:
    """Intervals of one count column's suppressed cells, as report entries (`intervals`: an
    audit already computed for exactly this pattern, e.g. the engine's last round)."""
    interval = spec.protection == "interval"
    res = intervals
    if res is None or not np.array_equal(res.cells, np.flatnonzero(suppressed)):
        res = feasible_intervals(
            structure.relations,
            values,
            suppressed,
            threshold=spec.threshold,
            interval=interval,
            fast=fast,
            truth_known=truth_known,
            structure=structure,
        )
    out = []
    for j, row in enumerate(res.cells):
        status = classify(res.lower[j], res.upper[j], spec.threshold, interval)
        true = int(values[row]) if truth_known else None
        out.append(
            CellInterval(
                int(row),
                structure.label(int(row)),
                column,
                float(res.lower[j]),
                float(res.upper[j]),
                status,
                true,
                bool(res.proven[j]),
            )
        )
    return out


def _exposed(
    structure: TableStructure, values: np.ndarray, spec: SuppressionSpec, column: str
) -> list[CellInterval]:
    """Published counts from 1 to the threshold: a primary cell left in the open."""
    small = np.flatnonzero((values >= 1) & (values <= spec.threshold))
    return [
        CellInterval(
            int(r),
            structure.label(int(r)),
            column,
            float(values[r]),
            float(values[r]),
            "published_small",
            int(values[r]),
        )
        for r in small
    ]


def _rates_revealing(
    table: pd.DataFrame, structure: TableStructure, spec: SuppressionSpec
) -> list[CellInterval]:
    """A rate published beside a suppressed numerator gives the count back (rate x denominator)."""
    out = []
    for rate in spec.rates:
        if rate.column not in table.columns:
            continue
        hidden = table[rate.numerator].isna() & table[rate.column].notna()
        out += [
            CellInterval(
                int(r), structure.label(int(r)), rate.column, math.nan, math.nan, "rate_published"
            )
            for r in np.flatnonzero(hidden.to_numpy())
        ]
    return out


def _align_original(
    table: pd.DataFrame, original: pd.DataFrame, spec: SuppressionSpec, column: str
) -> np.ndarray:
    keys = spec.dimensions
    check_columns(original, spec, rates=False)
    orig = original[keys + [column]].copy()
    for k in keys:
        orig[k] = orig[k].astype(str)
    left = table[keys].astype(str)
    merged = left.merge(orig, on=keys, how="left", validate="one_to_one")
    if merged[column].isna().any():
        bad = np.flatnonzero(merged[column].isna().to_numpy())
        raise DisclosureError(
            f"the original table lacks cells present in the published one: "
            f"{rows_text(table, keys, bad)}"
        )
    return parse_counts(merged.assign(**{k: table[k].to_numpy() for k in keys}), spec, column)


def audit_published(
    table: pd.DataFrame,
    spec: SuppressionSpec,
    original: pd.DataFrame | None = None,
    *,
    exact_intervals: bool = False,
) -> AuditReport:
    """LP audit of a PUBLISHED table (suppressed = null); needs no access to the original.

    With `original`, true values are shown and the published cells must match them. Fails on
    exactly recoverable cells, on `interval` protection violations, on published counts from 1
    to the threshold, and on rates published beside a suppressed count (fail closed).
    """
    check_columns(table, spec, rates=False)
    structure = build_structure(table, spec)
    report = AuditReport(threshold=spec.threshold, protection=spec.protection)
    for column in spec.counts:
        published = parse_counts(table, spec, column, allow_null=True)
        check_margins(table, spec, structure, column)
        suppressed = np.isnan(published)
        values, truth_known = published, False
        if original is not None:
            values = _align_original(table, original, spec, column)
            moved = np.flatnonzero(~suppressed & (values != published))
            if moved.size:
                raise DisclosureError(
                    f"published {column!r} differs from the original at "
                    f"{rows_text(table, spec.dimensions, moved)}"
                )
            truth_known = True
        report.cells += audit_column(
            structure,
            values,
            suppressed,
            spec,
            column,
            truth_known=truth_known,
            fast=not exact_intervals,
        )
        report.cells += _exposed(structure, published, spec, column)
    report.cells += _rates_revealing(table, structure, spec)
    logger.log(
        logging.INFO if report.passed else logging.WARNING, "Disclosure %s", report.headline()
    )
    return report
