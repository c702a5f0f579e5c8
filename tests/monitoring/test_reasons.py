"""Failure reasons leave the task log only in words that carry no data value and no secret."""

from __future__ import annotations

from ctdata.errors import (
    ConfigurationError,
    PortalRefusedError,
    PublishError,
    SourceUnavailableError,
    ValidationFailed,
)
from ctdata.monitoring.reasons import (
    error_type,
    failure_reason,
    kept_validation_reason,
    validation_failures,
)

VALIDATION_MESSAGE = """Validation failed for dataset 'towns (source)': 2 of 7 expectation(s) failed; nothing was published.
  - [opm_towns] expect_column_values_to_be_in_set on column 'county' (value_set=[8 values]): 1 unexpected value(s) (0.59% of rows checked), e.g. 'ZZSECRETCOUNTY'
  - [opm_towns] expect_table_row_count_to_equal (value=169): observed 170
      cell Hartford|2015|Male could be 3
      -> some hint
What to do: fix the source data."""


def test_validation_reason_keeps_expectations_and_counts_not_values() -> None:
    reason = failure_reason(ValidationFailed(VALIDATION_MESSAGE))
    assert "2 of 7 expectation(s) failed" in reason
    assert "expect_column_values_to_be_in_set on column 'county'" in reason
    assert "1 unexpected value(s) (0.59% of rows checked" in reason
    assert "expect_table_row_count_to_equal" in reason
    for leaked in ("ZZSECRETCOUNTY", "observed 170", "Hartford", "could be 3"):
        assert leaked not in reason


def test_errors_that_quote_rows_are_described_not_quoted() -> None:
    error = PublishError("row 12 {'record_id': 'ab12', 'age': 37} does not fit column 'age'")
    reason = failure_reason(error)
    assert "does not fit the portal dataset" in reason and "task's log" in reason
    assert "37" not in reason and "ab12" not in reason


def test_airflow_wrapping_is_looked_through_and_credentials_scrubbed() -> None:
    class AirflowFailException(Exception):  # what fail_fast raises `from` the error
        pass

    try:
        try:
            raise SourceUnavailableError(
                "postgresql://loader:s3cr3t-pw@db.ct.gov/cases refused the connection"
            )
        except SourceUnavailableError as exc:
            raise AirflowFailException(str(exc)) from exc
    except AirflowFailException as wrapped:
        reason = failure_reason(wrapped)
        assert error_type(wrapped) == "SourceUnavailableError"
    assert "could not be reached" in reason and "db.ct.gov" in reason
    assert "s3cr3t-pw" not in reason and "loader" not in reason


def test_portal_refusals_give_their_status_and_config_errors_their_text() -> None:
    assert "HTTP 403" in failure_reason(PortalRefusedError("Forbidden: x", status=403))
    assert "socrata_default has no host" in failure_reason(
        ConfigurationError("connection socrata_default has no host")
    )
    assert "TimeoutError" in failure_reason(TimeoutError("took long"))


def test_validation_failures_from_a_kept_summary() -> None:
    summary = {
        "outcomes": [
            {"suite": "s", "expectation_type": "expect_a", "column": "c", "success": True},
            {"suite": "s", "expectation_type": "expect_b", "column": "town", "success": False,
             "unexpected_count": 3, "unexpected_percent": 1.5, "observed_value": "Hartford"},
        ]
    }  # fmt: skip
    lines = validation_failures(summary)
    assert lines == ["[s] expect_b on column 'town': 3 unexpected value(s) (1.50% of rows checked)"]


def test_a_kept_validation_summary_gives_the_failing_expectations() -> None:
    reason = failure_reason(ValidationFailed(VALIDATION_MESSAGE))
    kept = {"outcomes": [{"suite": "opm", "expectation_type": "expect_c", "column": "county",
                          "success": False, "unexpected_count": 1, "unexpected_percent": 0.59}]}  # fmt: skip
    assert kept_validation_reason(reason, kept) == (
        "Validation failed for dataset 'towns (source)': 2 of 7 expectation(s) failed; "
        "nothing was published.\n"
        "- [opm] expect_c on column 'county': 1 unexpected value(s) (0.59% of rows checked)"
    )
    assert kept_validation_reason(reason, None) == reason
