"""run_suites: validate one frame against the named suites, keep the results, log the story."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ctdata import settings
from ctdata.errors import ValidationFailed
from ctdata.validation.archive import ResultArchive, RunStage
from ctdata.validation.batched import Frames, validate_batches
from ctdata.validation.context import validate_suites
from ctdata.validation.redaction import redact_suite_result
from ctdata.validation.results import (
    ExpectationOutcome,
    SuiteOutcome,
    ValidationSummary,
    json_safe,
)
from ctdata.validation.suites import check_parameters, load_suite, suite_path

logger = logging.getLogger(__name__)

# Counts only: no sample of unexpected values is computed (they would be redacted anyway).
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}


def run_suites(
    df: pd.DataFrame | Frames,
    suite_names: list[str],
    *,
    dataset: str,
    expectations_dir: Path | None = None,
    parameters: Mapping[str, Any] | None = None,
    keep_at: RunStage | None = None,
    store: ResultArchive | None = None,
) -> ValidationSummary:
    """Run every suite on `df`, a frame or a table read batch by batch (`Frames`: see
    ctdata.validation.batched); all suite files are loaded (and checked) before any runs.

    `parameters` fill the suites' GX suite parameters (`{"$PARAMETER": name}`); pydantic
    models are passed as their JSON form. With `keep_at`, each suite's redacted result and
    Data Docs page, and the summary, are written to `store` (default: CTDATA_DATA_DOCS_ROOT).
    """
    folder = (
        Path(expectations_dir)
        if expectations_dir is not None
        else settings.current().expectations_dir
    )
    _check_inputs(df, suite_names, dataset, folder)
    given = {name: json_safe(value) for name, value in (parameters or {}).items()}
    suites = [load_suite(name, folder) for name in suite_names]
    for name, suite in zip(suite_names, suites, strict=True):
        check_parameters(suite, suite_path(name, folder), given)
    if keep_at is not None:
        store = store or ResultArchive()
    if isinstance(df, pd.DataFrame):
        results = validate_suites(df, suites, RESULT_FORMAT, given)
    else:
        results = validate_batches(df, suites, RESULT_FORMAT, given)
    kept = [
        _suite_outcome(name, folder, redact_suite_result(result), keep_at, store)
        for name, result in zip(suite_names, results, strict=True)
    ]
    outcomes = [o for _, suite_outcomes in kept for o in suite_outcomes]
    failed = sum(not o.success for o in outcomes)
    summary = ValidationSummary(
        dataset=dataset,
        success=failed == 0 and len(outcomes) > 0,
        evaluated=len(outcomes),
        failed=failed,
        outcomes=outcomes,
        suites=[suite for suite, _ in kept],
    )
    if keep_at is not None and store is not None:
        summary.run, summary.record = keep_at.as_dict(), store.summary_url(keep_at)
        store.write_summary(keep_at, summary.as_dict())
    log_summary(summary)
    return summary


def _suite_outcome(
    name: str, folder: Path, result: Any, keep_at: RunStage | None, store: ResultArchive | None
) -> tuple[SuiteOutcome, list[ExpectationOutcome]]:
    """One suite's verdict and outcomes from its redacted result; its page kept if asked."""
    outcomes = [to_outcome(name, r) for r in result.results]
    failed = sum(not o.success for o in outcomes)
    suite = SuiteOutcome(
        name=name,
        file=str(suite_path(name, folder)),
        success=failed == 0 and bool(outcomes),
        evaluated=len(outcomes),
        failed=failed,
        data_docs=store.write_suite(keep_at, name, result) if keep_at and store else None,
    )
    return suite, outcomes


def _check_inputs(df: Any, suite_names: list[str], dataset: str, folder: Path) -> None:
    if not suite_names:
        raise ValidationFailed(
            f"No expectation suites named for dataset '{dataset}': name at least one suite "
            f"in {folder} so nothing is published unchecked."
        )
    if not isinstance(df, pd.DataFrame) and not callable(df):
        raise ValidationFailed(
            f"Dataset '{dataset}': expected a pandas DataFrame to validate, got {type(df).__name__}."
        )


def log_summary(summary: ValidationSummary) -> None:
    """The story for the task log: each suite's verdict and page, each expectation by name."""
    for suite in summary.suites:
        logger.log(
            logging.INFO if suite.success else logging.WARNING,
            "Suite %s on %s: %d of %d expectations passed, %d failed%s",
            suite.name,
            summary.dataset,
            suite.evaluated - suite.failed,
            suite.evaluated,
            suite.failed,
            f"; Data Docs: {suite.data_docs}" if suite.data_docs else "",
        )
        for outcome in summary.outcomes:
            if outcome.suite != suite.name:
                continue
            if outcome.success:
                where = f" ({outcome.column})" if outcome.column else ""
                logger.info("  passed %s%s", outcome.expectation_type, where)
            else:
                logger.warning("  FAILED %s", outcome.describe(with_suite=False))


def to_outcome(suite: str, result: Any) -> ExpectationOutcome:
    """Reduce a (redacted) GX ExpectationValidationResult to an ExpectationOutcome."""
    config = result.expectation_config
    kwargs = {k: v for k, v in dict(config.kwargs).items() if k != "batch_id"}
    body = dict(result.result or {})
    details = dict(body.get("details") or {})
    exception = exception_message(result.exception_info)
    return ExpectationOutcome(
        suite=suite,
        expectation_type=config.type,
        column=column_of(kwargs),
        kwargs=kwargs,
        success=bool(result.success) and not exception,
        unexpected_count=body.get("unexpected_count"),
        unexpected_percent=body.get("unexpected_percent"),
        element_count=body.get("element_count"),
        observed_value=body.get("observed_value"),
        reason=_reason(details),
        exception=exception,
    )


def _reason(details: dict[str, Any]) -> str | None:
    """ctdata's expectations explain themselves in `summary`; schema checks list columns."""
    if details.get("summary"):
        return str(details["summary"])
    mismatched = details.get("mismatched")
    if isinstance(mismatched, dict):
        parts = [
            f"{kind} columns: {', '.join(map(str, cols))}"
            for kind, cols in mismatched.items()
            if cols
        ]
        return "; ".join(parts) or None
    return None


def column_of(kwargs: dict[str, Any]) -> str | None:
    """The column(s) an expectation is about, as one string; None for table expectations."""
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_A") and kwargs.get("column_B"):
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    if kwargs.get("column_list"):
        return ", ".join(str(c) for c in kwargs["column_list"])
    return None


def exception_message(info: Any) -> str | None:
    """GX puts either one exception dict or one per failed metric in exception_info."""
    if not isinstance(info, dict) or not info:
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message")) if info.get("raised_exception") else None
    messages = [
        str(v.get("exception_message"))
        for v in info.values()
        if isinstance(v, dict) and v.get("exception_message")
    ]
    return "; ".join(dict.fromkeys(messages)) or None
