"""Suppress a full table (cells and margins): primary, complementary, rates, audit, output."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ctdata.disclosure.audit import AuditReport, audit_column
from ctdata.disclosure.complementary import protect
from ctdata.disclosure.spec import RateSpec, SuppressionSpec
from ctdata.disclosure.validate import parse_counts, validate_table
from ctdata.errors import DisclosureError

logger = logging.getLogger(__name__)


@dataclass
class SuppressionResult:
    """`table` keeps the input's rows and columns in order; flag columns follow them."""

    table: pd.DataFrame
    primary: int
    complementary: int
    audit: AuditReport


def primary_mask(values: np.ndarray, threshold: int) -> np.ndarray:
    """Counts from 1 to the threshold, totals included; zero never (state rules 1 and 4)."""
    return (values >= 1) & (values <= threshold)


def flag_column(column: str) -> str:
    return f"{column}_suppressed"


def rate_mask(table: pd.DataFrame, rate: RateSpec, count_suppressed: np.ndarray) -> np.ndarray:
    """A rate is withheld when its count is, or its numerator or denominator is too small."""
    num = pd.to_numeric(table[rate.numerator], errors="coerce").to_numpy(dtype=float)
    den = pd.to_numeric(table[rate.denominator], errors="coerce").to_numpy(dtype=float)
    return (
        count_suppressed
        | (num < rate.min_numerator)
        | np.isnan(den)
        | (den < rate.min_denominator)
        | (den == 0)
    )


def apply_rates(
    out: pd.DataFrame, source: pd.DataFrame, spec: SuppressionSpec, masks: dict[str, np.ndarray]
) -> None:
    for rate in spec.rates:
        hide = rate_mask(source, rate, masks[rate.numerator])
        if rate.column in source.columns:
            values = pd.to_numeric(source[rate.column], errors="coerce").astype(float)
        else:
            num = pd.to_numeric(source[rate.numerator], errors="coerce").astype(float)
            den = pd.to_numeric(source[rate.denominator], errors="coerce").astype(float)
            values = num / den.where(den > 0) * rate.per
        out[rate.column] = values.mask(hide)
        out[flag_column(rate.column)] = hide
        logger.info("Rate %r: %d of %d values withheld", rate.column, int(hide.sum()), hide.size)


def suppress(table: pd.DataFrame, spec: SuppressionSpec) -> SuppressionResult:
    """Protect every count column on its own; raises DisclosureError unless the audit passes."""
    structure = validate_table(table, spec)
    out = table.copy()
    report = AuditReport(threshold=spec.threshold, protection=spec.protection)
    masks: dict[str, np.ndarray] = {}
    n_primary = n_comp = 0
    for column in spec.counts:
        values = parse_counts(table, spec, column)
        primary = primary_mask(values, spec.threshold)
        outcome = protect(
            structure,
            values,
            primary,
            threshold=spec.threshold,
            interval=spec.protection == "interval",
            seed=spec.seed,
        )
        mask = outcome.suppressed
        masks[column] = mask
        n_primary += int(primary.sum())
        n_comp += int((mask & ~primary).sum())
        logger.info(
            "Column %r: %d primary cells (counts 1 to %d) and %d complementary cells suppressed "
            "of %d (protection=%s, %d rounds)",
            column,
            int(primary.sum()),
            spec.threshold,
            int((mask & ~primary).sum()),
            mask.size,
            spec.protection,
            outcome.rounds,
        )
        report.cells += audit_column(
            structure,
            values,
            mask,
            spec,
            column,
            truth_known=True,
            fast=True,
            intervals=outcome.intervals,
        )
        out[column] = pd.array(np.where(mask, 0, values).astype(np.int64), dtype="Int64")
        out.loc[mask, column] = pd.NA
    for column in spec.counts:
        out[flag_column(column)] = masks[column]
    apply_rates(out, table, spec, masks)
    if not report.passed:
        raise DisclosureError(f"suppression could not be made safe; refusing: {report.headline()}")
    logger.info("Disclosure %s", report.headline())
    return SuppressionResult(out, n_primary, n_comp, report)
