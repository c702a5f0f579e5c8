"""run_suites: results in counts, failure messages, suite file errors, suite parameters, XCom."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ctdata.errors import ValidationFailed
from ctdata.validation import ValidationSummary, run_suites


def write_suite(folder: Path, name: str, expectations: list[dict]) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"name": name, "expectations": expectations}), encoding="utf-8")
    return path


@pytest.fixture
def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pid": ["a1", "a2", "a3", "a4"],
            "town": ["Hartford", "Hartfrod", "Avon", "Hartfrod"],
            "n": pd.array([0, 3, 12, None], dtype="Int64"),
        }
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_suite(
        tmp_path,
        "people_checks",
        [
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "pid"}},
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "town", "value_set": ["Hartford", "Avon"]},
            },
            {"type": "expect_column_values_to_not_be_small_counts", "kwargs": {"column": "n"}},
            {"type": "expect_table_row_count_to_equal", "kwargs": {"value": 4}},
        ],
    )
    return tmp_path


def test_passing_and_failing_expectations_are_summarised(people, folder) -> None:
    summary = run_suites(people, ["people_checks"], dataset="people", expectations_dir=folder)
    assert isinstance(summary, ValidationSummary)
    assert (summary.success, summary.evaluated, summary.failed) == (False, 4, 2)
    by_type = {o.expectation_type: o for o in summary.outcomes}
    town = by_type["expect_column_values_to_be_in_set"]
    assert (town.suite, town.column, town.success) == ("people_checks", "town", False)
    assert (town.unexpected_count, town.unexpected_percent, town.element_count) == (2, 50.0, 4)
    assert town.kwargs["value_set"] == ["Hartford", "Avon"]
    assert by_type["expect_table_row_count_to_equal"].observed_value == 4
    assert by_type["expect_table_row_count_to_equal"].column is None
    assert by_type["expect_column_values_to_be_unique"].success
    (suite,) = summary.suites
    assert (suite.name, suite.success, suite.evaluated, suite.failed) == (
        "people_checks",
        False,
        4,
        2,
    )
    assert suite.file == str(folder / "people_checks.json") and suite.data_docs is None


def test_failure_message_names_dataset_expectation_column_counts_and_fix(people, folder) -> None:
    summary = run_suites(people, ["people_checks"], dataset="ocme deaths", expectations_dir=folder)
    with pytest.raises(ValidationFailed) as caught:
        summary.raise_for_failure()
    message = str(caught.value)
    assert "'ocme deaths'" in message
    assert "2 of 4 expectation(s) failed" in message
    assert "expect_column_values_to_be_in_set on column 'town'" in message
    assert "2 unexpected value(s) (50.00% of rows checked)" in message
    assert "expect_column_values_to_not_be_small_counts on column 'n'" in message
    assert "1 unexpected value(s) (33.33% of rows checked)" in message  # of non-null
    assert str(folder / "people_checks.json") in message
    assert "fix the source data" in message and "counts only" in message
    assert "unique" not in message  # passing expectations are not listed
    # The offending values (a misspelt town, a small count of 3) stay out of the message.
    assert "Hartfrod" not in message and "e.g." not in message


def test_no_value_from_the_data_reaches_the_summary(people, folder) -> None:
    write_suite(
        folder,
        "stats",
        [
            {"type": "expect_column_max_to_be_between", "kwargs": {"column": "n", "max_value": 5}},
            {
                "type": "expect_column_distinct_values_to_be_in_set",
                "kwargs": {"column": "town", "value_set": ["Avon"]},
            },
        ],
    )
    summary = run_suites(
        people, ["people_checks", "stats"], dataset="people", expectations_dir=folder
    )
    text = json.dumps(summary.as_dict()) + summary.message()
    text = text.replace(str(folder), "<suites>")  # pytest's tmp folder, e.g. pytest-112, is no data
    for value in ("Hartfrod", "a1", "a3", "12"):
        assert value not in text
    stats = [o for o in summary.outcomes if o.suite == "stats"]
    assert [o.success for o in stats] == [False, False]
    assert [o.observed_value for o in stats] == [None, None]  # a maximum, distinct values: data


def test_success_does_not_raise(people, folder) -> None:
    clean = people.assign(town="Avon", n=pd.array([0, 6, 12, None], dtype="Int64"))
    summary = run_suites(clean, ["people_checks"], dataset="people", expectations_dir=folder)
    assert summary.success and summary.failed == 0 and summary.evaluated == 4
    summary.raise_for_failure()


def test_as_dict_is_json_safe_and_small(people, folder) -> None:
    people = people.assign(score=[np.float64(1.5), np.nan, np.int64(3), 4.0])
    write_suite(
        folder,
        "big_set",
        [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "town", "value_set": [f"town{i}" for i in range(500)]},
            },
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "score", "min_value": 2},
            },
        ],
    )
    summary = run_suites(
        people, ["people_checks", "big_set"], dataset="people", expectations_dir=folder
    )
    data = summary.as_dict()
    text = json.dumps(data, allow_nan=False)
    assert len(text) < 5000
    assert data["dataset"] == "people" and data["failed"] == summary.failed == 4
    assert [s["name"] for s in data["suites"]] == ["people_checks", "big_set"]
    assert [(s["evaluated"], s["failed"]) for s in data["suites"]] == [(4, 2), (2, 2)]
    failed = [o for o in data["outcomes"] if not o["success"]]
    value_set = failed[2]["rule"]["value_set"]
    assert len(value_set) == 21 and value_set[-1] == "... (480 more)"
    passed = [o for o in data["outcomes"] if o["success"]]
    assert passed and all("rule" not in o for o in passed)
    assert {"expectation_type", "column", "success", "observed_value"} <= set(passed[0])


def test_missing_suite_file_names_the_file(people, folder) -> None:
    with pytest.raises(ValidationFailed) as caught:
        run_suites(people, ["people_checks", "nope"], dataset="d", expectations_dir=folder)
    assert str(folder / "nope.json") in str(caught.value)
    assert "not found" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not valid JSON: Expecting property name"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"name": "broken", "expectations": []}', "non-empty list 'expectations'"),
        ('{"name": "other", "expectations": [{"type": "x"}]}', "declares name 'other'"),
        ('{"name": "broken", "expectations": [{"kwargs": {}}]}', "has no 'type'"),
        (
            '{"name": "broken", "meta": 5, "expectations": [{"type":'
            ' "expect_column_values_to_be_unique", "kwargs": {"column": "pid"}}]}',
            "is invalid",
        ),
        (
            '{"name": "broken", "expectations": [{"type": "expect_column_values_to_be_unique",'
            ' "kwargs": {"colum": "pid"}}]}',
            "Invalid arguments for 'expect_column_values_to_be_unique' in expectations[0]",
        ),
    ],
)
def test_malformed_suite_file_names_the_file(people, tmp_path, content, expected) -> None:
    (tmp_path / "broken.json").write_text(content, encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        run_suites(people, ["broken"], dataset="d", expectations_dir=tmp_path)
    assert expected in str(caught.value)
    assert str(tmp_path / "broken.json") in str(caught.value)


def test_unknown_expectation_type_is_refused(people, tmp_path) -> None:
    write_suite(
        tmp_path,
        "typo",
        [{"type": "expect_colum_values_to_be_unique", "kwargs": {"column": "pid"}}],
    )
    with pytest.raises(ValidationFailed) as caught:
        run_suites(people, ["typo"], dataset="d", expectations_dir=tmp_path)
    message = str(caught.value)
    assert "Unknown expectation type 'expect_colum_values_to_be_unique'" in message
    assert "expectations[0]" in message and str(tmp_path / "typo.json") in message


def test_bad_suite_names_and_empty_lists_are_refused(people, folder) -> None:
    with pytest.raises(ValidationFailed, match="not a plain file name"):
        run_suites(people, ["../people_checks"], dataset="d", expectations_dir=folder)
    with pytest.raises(ValidationFailed, match="No expectation suites named for dataset 'd'"):
        run_suites(people, [], dataset="d", expectations_dir=folder)


def test_suite_parameters_take_their_values_at_run_time(people, folder) -> None:
    write_suite(
        folder,
        "counts",
        [
            {
                "type": "expect_column_values_to_not_be_small_counts",
                "kwargs": {"column": "n", "threshold": 2},
            },
            {
                "type": "expect_table_row_count_to_equal",
                "kwargs": {"value": {"$PARAMETER": "rows"}},
            },
        ],
    )
    four = run_suites(
        people, ["counts"], dataset="d", expectations_dir=folder, parameters={"rows": 4}
    )
    assert four.success, four.message()
    five = run_suites(
        people, ["counts"], dataset="d", expectations_dir=folder, parameters={"rows": 5, "x": 1}
    )
    assert [(o.expectation_type, o.observed_value) for o in five.failures] == [
        ("expect_table_row_count_to_equal", 4)
    ]
    with pytest.raises(ValidationFailed) as caught:
        run_suites(people, ["counts"], dataset="d", expectations_dir=folder, parameters={"x": 1})
    message = str(caught.value)
    assert "Suite parameter 'rows' of 'expect_table_row_count_to_equal'" in message
    assert f"expectations[1] of {folder / 'counts.json'}" in message and "(given: x)" in message


def test_suppression_spec_parameter_reaches_the_audit(tmp_path) -> None:
    from ctdata.disclosure.spec import SuppressionSpec

    safe = pd.DataFrame({"a": ["x", "y", "Total"], "n": pd.array([None, None, 43], dtype="Int64")})
    unsafe = safe.assign(n=pd.array([None, 40, 43], dtype="Int64"))  # x = 43 - 40
    write_suite(
        tmp_path,
        "audit",
        [
            {
                "type": "expect_table_disclosure_audit_to_pass",
                "kwargs": {"suppression_spec": {"$PARAMETER": "suppression_spec"}},
            }
        ],
    )
    given = {"suppression_spec": SuppressionSpec(dimensions=["a"], counts=["n"])}
    passed = run_suites(safe, ["audit"], dataset="d", expectations_dir=tmp_path, parameters=given)
    assert passed.success, passed.as_dict()
    assert passed.outcomes[0].observed_value == {"cells_audited": 2, "failures": 0}
    failed = run_suites(unsafe, ["audit"], dataset="d", expectations_dir=tmp_path, parameters=given)
    assert not failed.success
    assert "1 failing (1 exact)" in failed.message()
    assert "a=x" not in failed.message() and "[3" not in failed.message()


def test_missing_column_is_a_failure_not_a_crash(people, tmp_path) -> None:
    write_suite(
        tmp_path,
        "cols",
        [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "zz"}}],
    )
    summary = run_suites(people, ["cols"], dataset="d", expectations_dir=tmp_path)
    assert not summary.success
    assert "zz" in summary.message()
    assert "could not be evaluated" in summary.message()
