"""What of a GX validation result may be kept and shown: counts, percentages and the table's
shape, never a value from the data.

The frames checked are record-level extracts and suppressed tables, and results travel far
(XCom, task logs, alerts, the Data Docs pages, the Open Data view). GX's results carry sample
values (`partial_unexpected_list`), row indexes, and for many expectations an observed value
that is itself data (a column's maximum, its distinct values). Everything is dropped except
the counts below and the observed values of expectations whose observation is a count, a
proportion or a list of column names.
"""

from __future__ import annotations

import copy
import re
from typing import Any

KEPT_COUNTS = (
    "element_count",
    "missing_count",
    "missing_percent",
    "unexpected_count",
    "unexpected_percent",
    "unexpected_percent_total",
    "unexpected_percent_nonmissing",
)

# Expectations whose observed value is an aggregate (a count, a proportion) or the table's
# schema (column names, which are published anyway), never a value from a row.
AGGREGATE_OBSERVATIONS = frozenset(
    {
        "expect_table_row_count_to_equal",
        "expect_table_row_count_to_be_between",
        "expect_table_row_count_to_equal_other_table",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
        "expect_column_to_exist",
        "expect_column_unique_value_count_to_be_between",
        "expect_column_proportion_of_unique_values_to_be_between",
        "expect_column_proportion_of_non_null_values_to_be_between",
        # ctdata's own: observed values and details hold counts only (see their modules)
        "expect_table_disclosure_audit_to_pass",
        "expect_table_group_sizes_to_be_at_least",
        "expect_population_disclosure_audit_to_pass",
    }
)

# Whose `details` say which columns are missing or unexpected (names, not data), or, for
# ctdata's expectations, a summary in counts.
KEPT_DETAILS = frozenset(
    {
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_disclosure_audit_to_pass",
        "expect_table_group_sizes_to_be_at_least",
        "expect_population_disclosure_audit_to_pass",
    }
)


def redact_result(expectation_type: str, result: dict[str, Any] | None) -> dict[str, Any]:
    """The `result` dict of one expectation with only counts and aggregate observations."""
    body = dict(result or {})
    kept = {key: body[key] for key in KEPT_COUNTS if key in body}
    if "observed_value" in body:
        observed = body["observed_value"]
        kept["observed_value"] = observed if expectation_type in AGGREGATE_OBSERVATIONS else None
    if expectation_type in KEPT_DETAILS and body.get("details"):
        kept["details"] = body["details"]
    return kept


def redact_exception(info: Any) -> Any:
    """What GX caught while evaluating an expectation, without its text: messages and
    tracebacks quote the data (pandas: "Could not convert string '14-0273...' to numeric"),
    so only the exception's type is kept, in a message that says the rest was left out. GX
    keeps either one such record or one per metric that failed, keyed by the metric's id."""
    if not isinstance(info, dict):
        return info
    if "raised_exception" in info:
        if not info.get("raised_exception"):
            return {"raised_exception": False, "exception_message": None,
                    "exception_traceback": None}  # fmt: skip
        note = f"{exception_type(info)} ({WITHHELD})"
        # GX's renderer shows the traceback: it must be text, so it carries the note too.
        return {"raised_exception": True, "exception_message": note, "exception_traceback": note}
    return {str(key): redact_exception(value) for key, value in info.items()}


WITHHELD = "its message is not kept: it may quote the data"
_TYPE = re.compile(r"^(?:[A-Za-z_]\w*\.)*(?P<name>[A-Za-z_]\w*)(?::|$)")


def exception_type(info: dict[str, Any]) -> str:
    """The class name of the exception GX caught, from its traceback's last line
    (`package.module.ClassName: message`); 'Exception' when it cannot be read."""
    traceback = str(info.get("exception_traceback") or "").strip()
    last = traceback.splitlines()[-1] if traceback else ""
    match = _TYPE.match(last)
    return match.group("name") if match else "Exception"


def redact_suite_result(suite_result: Any) -> Any:
    """A copy of a GX ExpectationSuiteValidationResult that is safe to keep and show."""
    safe = copy.deepcopy(suite_result)
    for evr in safe.results:
        exp_type = evr.expectation_config.type if evr.expectation_config else ""
        evr.result = redact_result(exp_type, evr.result)
        evr.exception_info = redact_exception(evr.exception_info)
    return safe
