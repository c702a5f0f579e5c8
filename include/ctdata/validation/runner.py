"""run_suites: validate one frame against the named suites and summarise the outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ctdata import settings
from ctdata.errors import ValidationFailed
from ctdata.validation.context import validate_suites
from ctdata.validation.results import MAX_EXAMPLES, ExpectationOutcome, ValidationSummary
from ctdata.validation.suites import RuntimeKwargs, check_runtime_kwargs, load_suite, suite_path

RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": MAX_EXAMPLES,
    "include_unexpected_rows": False,
}


def run_suites(
    df: pd.DataFrame,
    suite_names: list[str],
    *,
    dataset: str,
    expectations_dir: Path | None = None,
    runtime_kwargs: RuntimeKwargs | None = None,
) -> ValidationSummary:
    """Run every suite on `df`; all suite files are loaded (and checked) before any runs.

    `runtime_kwargs` maps an expectation type to kwargs merged into every expectation of
    that type (e.g. the dataset's suppression spec for the disclosure audit).
    """
    folder = Path(expectations_dir) if expectations_dir is not None else settings.expectations_dir()
    if not suite_names:
        raise ValidationFailed(
            f"No expectation suites named for dataset '{dataset}': name at least one suite "
            f"in {folder} so nothing is published unchecked."
        )
    if not isinstance(df, pd.DataFrame):
        raise ValidationFailed(
            f"Dataset '{dataset}': expected a pandas DataFrame to validate, got {type(df).__name__}."
        )
    check_runtime_kwargs(runtime_kwargs)
    suites = [load_suite(name, folder, runtime_kwargs) for name in suite_names]
    outcomes: list[ExpectationOutcome] = []
    for suite, result in zip(suites, validate_suites(df, suites, RESULT_FORMAT), strict=True):
        outcomes.extend(to_outcome(suite.name, r) for r in result.results)
    failed = sum(not o.success for o in outcomes)
    return ValidationSummary(
        dataset=dataset,
        success=failed == 0 and len(outcomes) > 0,
        evaluated=len(outcomes),
        failed=failed,
        outcomes=outcomes,
        suite_files={name: str(suite_path(name, folder)) for name in suite_names},
    )


def to_outcome(suite: str, result: Any) -> ExpectationOutcome:
    """Reduce a GX ExpectationValidationResult to an ExpectationOutcome."""
    config = result.expectation_config
    kwargs = {k: v for k, v in dict(config.kwargs).items() if k != "batch_id"}
    body = dict(result.result or {})
    details = dict(body.get("details") or {})
    if body.get("partial_unexpected_counts"):
        details["partial_unexpected_counts"] = body["partial_unexpected_counts"][:MAX_EXAMPLES]
    exception = exception_message(result.exception_info)
    if exception:
        details["exception"] = exception
    return ExpectationOutcome(
        suite=suite,
        expectation_type=config.type,
        column=column_of(kwargs),
        kwargs=kwargs,
        success=bool(result.success) and not exception,
        unexpected_count=body.get("unexpected_count"),
        unexpected_percent=body.get("unexpected_percent"),
        partial_unexpected_list=list(body.get("partial_unexpected_list") or [])[:MAX_EXAMPLES],
        observed_value=body.get("observed_value"),
        details=details,
    )


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
