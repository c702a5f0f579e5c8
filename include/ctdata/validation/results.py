"""What a validation run reports: plain dataclasses, JSON-safe for XCom, no GX import.

The DAG keeps only `ValidationSummary.as_dict()` in XCom, so it must stay small: long lists
(value sets, example values) are cut, and everything is converted to JSON types.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctdata.errors import ValidationFailed

MAX_EXAMPLES = 10
MAX_COLLECTION_IN_DICT = 20
MAX_FAILURES_IN_MESSAGE = 20


HINTS = {
    "expect_column_values_to_not_be_small_counts": "counts from 1 to the threshold must be "
    "suppressed (published empty) before publishing: run the suppression step on this table",
    "expect_table_disclosure_audit_to_pass": "some suppressed cells can be worked out from the "
    "published totals: rerun suppression (ctdata suppress) so complements are added, or "
    "aggregate to coarser categories",
}


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
    """One expectation's result, reduced to what a person needs to act on it."""

    suite: str
    expectation_type: str
    column: str | None
    kwargs: dict[str, Any]
    success: bool
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    partial_unexpected_list: list[Any] = field(default_factory=list)
    observed_value: Any = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "expectation_type": self.expectation_type,
            "column": self.column,
            "kwargs": compact(json_safe(self.kwargs)),
            "success": bool(self.success),
            "unexpected_count": json_safe(self.unexpected_count),
            "unexpected_percent": json_safe(self.unexpected_percent),
            "partial_unexpected_list": json_safe(self.partial_unexpected_list[:MAX_EXAMPLES]),
            "observed_value": compact(json_safe(self.observed_value)),
            "details": compact(json_safe(self.details)),
        }

    def describe(self) -> str:
        """One line naming the suite, expectation, column, what was seen and examples."""
        where = f" on column '{self.column}'" if self.column else ""
        text = f"[{self.suite}] {self.expectation_type}{where}"
        text += _describe_rule(self.kwargs)
        if self.details.get("exception"):
            return f"{text}: could not be evaluated: {self.details['exception']}"
        if self.unexpected_count is not None:
            pct = self.unexpected_percent or 0.0
            text += f": {self.unexpected_count} unexpected value(s) ({pct:.2f}% of rows checked"
            mostly = self.kwargs.get("mostly")
            if isinstance(mostly, (int, float)) and mostly < 1:
                text += f", at most {(1 - mostly) * 100:.2f}% allowed"
            text += ")"
            examples = self.examples()
            if examples:
                text += f", e.g. {examples}"
        elif self.observed_value is not None:
            text += f": observed {json_safe(self.observed_value)!r}"
        summary = self.details.get("summary")
        if summary:
            text += "".join(f"\n      {line.strip()}" for line in str(summary).splitlines())
        hint = HINTS.get(self.expectation_type)
        if hint:
            text += f"\n      -> {hint}"
        return text

    def examples(self) -> str:
        """Distinct offending values with how often each occurs, e.g. "'Unknown' (x4), 'M'"."""
        counts = json_safe(self.details.get("partial_unexpected_counts") or [])
        # GX counts only the sampled values: show counts only when they cover every failure.
        if counts and sum(e.get("count", 0) for e in counts) == self.unexpected_count:
            shown = []
            for entry in counts[:MAX_EXAMPLES]:
                times = f" (x{entry['count']})" if entry.get("count", 1) > 1 else ""
                shown.append(f"{entry.get('value')!r}{times}")
            return ", ".join(shown)
        distinct = list(dict.fromkeys(repr(v) for v in json_safe(self.partial_unexpected_list)))
        return ", ".join(distinct[:MAX_EXAMPLES])


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
class ValidationSummary:
    """The outcome of every expectation of every suite run on one dataset's frame."""

    dataset: str
    success: bool
    evaluated: int
    failed: int
    outcomes: list[ExpectationOutcome]
    suite_files: dict[str, str] = field(default_factory=dict)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe and small: counts for every expectation, details only for failures."""
        return {
            "dataset": self.dataset,
            "success": bool(self.success),
            "evaluated": int(self.evaluated),
            "failed": int(self.failed),
            "suites": sorted({o.suite for o in self.outcomes} | set(self.suite_files)),
            "outcomes": [_outcome_dict(o) for o in self.outcomes],
        }

    def message(self) -> str:
        """What failed, where, with examples, and what to do: the text of ValidationFailed."""
        failures = self.failures
        lines = [
            f"Validation failed for dataset '{self.dataset}': {self.failed} of "
            f"{self.evaluated} expectation(s) failed; nothing was published."
        ]
        for outcome in failures[:MAX_FAILURES_IN_MESSAGE]:
            lines.append(f"  - {outcome.describe()}")
        if len(failures) > MAX_FAILURES_IN_MESSAGE:
            lines.append(f"  ... and {len(failures) - MAX_FAILURES_IN_MESSAGE} more")
        files = sorted(
            {self.suite_files.get(o.suite, f"expectations/{o.suite}.json") for o in failures}
        )
        lines.append(
            "What to do: fix the source data (or the extract/aggregation step) so these rows "
            "meet the rules; if a rule itself is wrong, edit the suite file "
            + ", ".join(files)
            + " and rerun."
        )
        return "\n".join(lines)

    def raise_for_failure(self) -> None:
        """Raise ValidationFailed (fail closed) unless every expectation passed."""
        if not self.success:
            raise ValidationFailed(self.message())


def _outcome_dict(outcome: ExpectationOutcome) -> dict[str, Any]:
    """Failures in full; passes keep only what monitoring needs (counts, observed value)."""
    full = outcome.as_dict()
    if not outcome.success:
        return full
    keep = ("suite", "expectation_type", "column", "success", "unexpected_count")
    small = {key: full[key] for key in keep}
    small["unexpected_percent"] = full["unexpected_percent"]
    small["observed_value"] = full["observed_value"]
    return small
