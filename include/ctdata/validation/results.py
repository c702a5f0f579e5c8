"""What a validation run reports: plain dataclasses, JSON-safe for XCom, no GX import.

`ValidationSummary.as_dict()` is the task's XCom and the stored summary the Open Data view and
alerts read: per suite its Data Docs page, per expectation its type, column, pass/fail and
observed counts. It holds no value from the data (the results are redacted first, see
`redaction`), so messages and logs built from it can go anywhere. Long lists in an
expectation's arguments (value sets) are cut to keep XCom small.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctdata.errors import ValidationFailed

MAX_COLLECTION_IN_DICT = 20
MAX_FAILURES_IN_MESSAGE = 20


HINTS = {
    "expect_column_values_to_not_be_small_counts": "counts from 1 to the threshold must be "
    "suppressed (published empty) before publishing: run the suppression step on this table",
    "expect_table_disclosure_audit_to_pass": "some suppressed cells can be worked out from the "
    "published totals: rerun suppression so complements are added, or aggregate to coarser "
    "categories; `ctdata audit --spec SPEC.yaml TABLE.csv` on the staged table lists the cells",
}
PRIVACY_NOTE = "Values from the data are not shown, to protect privacy: counts only."


def json_safe(value: Any) -> Any:
    """Convert numpy/pandas scalars, NaN/NA, dates and containers to plain JSON values."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return _json_safe_foreign(value)


def _json_safe_foreign(value: Any) -> Any:
    """numpy scalars expose .item(); pandas NA/NaT are not equal to themselves."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return json_safe(item())
        except (ValueError, TypeError):
            pass
    if hasattr(value, "isoformat"):
        return value.isoformat()
    try:
        if value != value:  # pd.NA raises TypeError here, NaT compares unequal
            return None
    except TypeError:
        return None
    if hasattr(value, "model_dump"):
        return json_safe(value.model_dump(mode="json"))
    return str(value)


def compact(value: Any, limit: int = MAX_COLLECTION_IN_DICT) -> Any:
    """Shorten long lists and dicts (e.g. a 169-town value_set) so XCom stays small."""
    if isinstance(value, list):
        items = [compact(v, limit) for v in value[:limit]]
        if len(value) > limit:
            items.append(f"... ({len(value) - limit} more)")
        return items
    if isinstance(value, dict):
        keys = list(value)
        out = {k: compact(value[k], limit) for k in keys[:limit]}
        if len(keys) > limit:
            out["..."] = f"{len(keys) - limit} more keys"
        return out
    return value


@dataclass
class ExpectationOutcome:
    """One expectation's result in counts, reduced to what a person needs to act on it."""

    suite: str
    expectation_type: str
    column: str | None
    kwargs: dict[str, Any]
    success: bool
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    element_count: int | None = None
    observed_value: Any = None
    reason: str | None = None
    exception: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Every outcome gives type, column, pass/fail and counts; failures add the rule."""
        out = {
            "suite": self.suite,
            "expectation_type": self.expectation_type,
            "column": self.column,
            "success": bool(self.success),
            "observed_value": compact(json_safe(self.observed_value)),
            "unexpected_count": json_safe(self.unexpected_count),
            "unexpected_percent": json_safe(self.unexpected_percent),
            "element_count": json_safe(self.element_count),
        }
        if not self.success:
            out["rule"] = compact(json_safe(self.kwargs))
            out["reason"] = self.reason
            out["exception"] = self.exception
        return out

    def describe(self, *, with_suite: bool = True) -> str:
        """One line naming the suite, expectation, column and what was counted."""
        where = f" on column '{self.column}'" if self.column else ""
        text = f"{self.expectation_type}{where}{_describe_rule(self.kwargs)}"
        if with_suite:
            text = f"[{self.suite}] {text}"
        if self.exception:
            return f"{text}: could not be evaluated: {self.exception}"
        if self.unexpected_count is not None:
            pct = self.unexpected_percent or 0.0
            text += f": {self.unexpected_count} unexpected value(s) ({pct:.2f}% of rows checked"
            mostly = self.kwargs.get("mostly")
            if isinstance(mostly, (int, float)) and mostly < 1:
                text += f", at most {(1 - mostly) * 100:.2f}% allowed"
            text += ")"
        elif self.observed_value is not None:
            text += f": observed {json_safe(self.observed_value)!r}"
        if self.reason:
            text += "".join(f"\n      {line.strip()}" for line in self.reason.splitlines())
        hint = HINTS.get(self.expectation_type)
        if hint:
            text += f"\n      -> {hint}"
        return text


def _describe_rule(kwargs: dict[str, Any]) -> str:
    """Short parenthesised summary of the rule's parameters (without long value sets)."""
    skip = {"column", "batch_id", "suppression_spec", "result_format", "catch_exceptions"}
    parts = []
    for key, value in kwargs.items():
        if key in skip or value is None:
            continue
        value = json_safe(value)
        if isinstance(value, dict) and "pass_through_filter" in value:
            value = value["pass_through_filter"]  # GX's stored form of a pandas row_condition
        shown = f"[{len(value)} values]" if isinstance(value, list) and len(value) > 8 else value
        parts.append(f"{key}={shown}")
    return f" ({'; '.join(parts)})" if parts else ""


@dataclass
class SuiteOutcome:
    """One suite's run: its file, verdict and where its Data Docs page was kept."""

    name: str
    file: str
    success: bool
    evaluated: int
    failed: int
    data_docs: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "success": bool(self.success),
            "evaluated": int(self.evaluated),
            "failed": int(self.failed),
            "data_docs": self.data_docs,
        }


@dataclass
class ValidationSummary:
    """The outcome of every expectation of every suite run on one dataset's frame."""

    dataset: str
    success: bool
    evaluated: int
    failed: int
    outcomes: list[ExpectationOutcome]
    suites: list[SuiteOutcome] = field(default_factory=list)
    run: dict[str, str] | None = None  # agency, dataset, run_id, stage when results are kept
    record: str | None = None  # where the summary itself was kept

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe and small: counts for every expectation, the rule only for failures."""
        return {
            "dataset": self.dataset,
            "success": bool(self.success),
            "evaluated": int(self.evaluated),
            "failed": int(self.failed),
            "run": self.run,
            "record": self.record,
            "suites": [s.as_dict() for s in self.suites],
            "outcomes": [o.as_dict() for o in self.outcomes],
        }

    def message(self) -> str:
        """What failed, where, in counts, and what to do: the text of ValidationFailed."""
        failures = self.failures
        lines = [
            f"Validation failed for dataset '{self.dataset}': {self.failed} of "
            f"{self.evaluated} expectation(s) failed; nothing was published."
        ]
        for outcome in failures[:MAX_FAILURES_IN_MESSAGE]:
            lines.append(f"  - {outcome.describe()}")
        if len(failures) > MAX_FAILURES_IN_MESSAGE:
            lines.append(f"  ... and {len(failures) - MAX_FAILURES_IN_MESSAGE} more")
        failed_suites = [s for s in self.suites if not s.success]
        lines += [f"Data Docs for {s.name}: {s.data_docs}" for s in failed_suites if s.data_docs]
        lines.append(PRIVACY_NOTE)
        lines.append(
            "What to do: fix the source data (or the extract/aggregation step) so these rows "
            "meet the rules; if a rule itself is wrong, edit the suite file "
            + ", ".join(sorted({s.file for s in failed_suites}))
            + " and rerun."
        )
        return "\n".join(lines)

    def raise_for_failure(self) -> None:
        """Raise ValidationFailed (fail closed) unless every expectation passed."""
        if not self.success:
            raise ValidationFailed(self.message())
