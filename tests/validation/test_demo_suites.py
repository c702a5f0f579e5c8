"""The four demo suites in expectations/ pass on small valid frames and catch each broken rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctdata.errors import ValidationFailed
from ctdata.validation import run_suites

AUDIT = "expect_table_disclosure_audit_to_pass"


def failed_rules(summary) -> set[tuple[str, str | None]]:
    return {(o.expectation_type, o.column) for o in summary.failures}


def run(frame: pd.DataFrame, suite: str, suites_dir, **kwargs):
    return run_suites(frame, [suite], dataset=suite, expectations_dir=suites_dir, **kwargs)


def test_committed_suites_match_the_generator(suites_dir, build_suites, capsys) -> None:
    assert build_suites.main(["--out", str(suites_dir), "--check"]) == 0, capsys.readouterr().err


# --- ocme_deaths_source -----------------------------------------------------------------


def test_source_suite_passes_on_valid_frame(source_frame, suites_dir) -> None:
    summary = run(source_frame(100, unknown=2), "ocme_deaths_source", suites_dir)
    assert summary.success, summary.message()
    assert summary.evaluated == 10


def test_source_suites_refuse_an_empty_extract(source_frame, suites_dir) -> None:
    summary = run(source_frame(0), "ocme_deaths_source", suites_dir)
    assert failed_rules(summary) == {("expect_table_row_count_to_be_between", None)}


@pytest.mark.parametrize(("unknown", "passes"), [(2, True), (3, True), (4, False), (10, False)])
def test_source_suite_tolerates_three_percent_unknown_towns(
    source_frame, suites_dir, unknown, passes
) -> None:
    summary = run(source_frame(100, unknown=unknown), "ocme_deaths_source", suites_dir)
    assert summary.success is passes
    if not passes:
        assert failed_rules(summary) == {("expect_column_values_to_be_in_set", "death_town")}
        assert f"{unknown} unexpected value(s) ({unknown:.2f}% of rows checked" in summary.message()
        assert "Unknown" not in summary.message()  # a count, never a value from the records


def _break_case_id_null(f):
    f.loc[3, "case_id"] = None


def _break_case_id_dup(f):
    f.loc[3, "case_id"] = f.loc[4, "case_id"]


def _break_year_range(f):
    f.loc[3, "year"] = 2019


def _break_year_null(f):
    f["year"] = f["year"].astype("float64")
    f.loc[3, "year"] = np.nan


def _break_sex(f):
    f.loc[3, "sex"] = "F"


def _break_town_null(f):
    f.loc[3, "death_town"] = None


def _break_age(f):
    f.loc[5, "age"] = 111.0


@pytest.mark.parametrize(
    ("breaker", "rule"),
    [
        (_break_case_id_null, ("expect_column_values_to_not_be_null", "case_id")),
        (_break_case_id_dup, ("expect_column_values_to_be_unique", "case_id")),
        (_break_year_range, ("expect_column_values_to_be_between", "year")),
        (_break_year_null, ("expect_column_values_to_not_be_null", "year")),
        (_break_sex, ("expect_column_values_to_be_in_set", "sex")),
        (_break_town_null, ("expect_column_values_to_not_be_null", "death_town")),
        (_break_age, ("expect_column_values_to_be_between", "age")),
    ],
)
def test_source_suite_catches_each_rule(source_frame, suites_dir, breaker, rule) -> None:
    frame = source_frame(100)
    breaker(frame)
    summary = run(frame, "ocme_deaths_source", suites_dir)
    assert rule in failed_rules(summary), summary.message()


def test_source_suite_lets_missing_age_through(source_frame, suites_dir) -> None:
    frame = source_frame(100)
    frame["age"] = np.nan
    assert run(frame, "ocme_deaths_source", suites_dir).success


# --- ocme_deaths_by_town_publishable ------------------------------------------------------


JOINT = {"passed": True, "headline": "joint audit passed", "disclosed": 0, "releases": 3}


def by_town(frame, suites_dir, spec):
    parameters = {"suppression_spec": spec, "population_audit": JOINT}
    return run(frame, "ocme_deaths_by_town_publishable", suites_dir, parameters=parameters)


def test_by_town_suite_passes_on_safe_table(by_town_frame, suites_dir, by_town_spec) -> None:
    assert len(by_town_frame) == 171 * 8 * 4
    summary = by_town(by_town_frame, suites_dir, by_town_spec)
    assert summary.success, summary.message()
    audit = next(o for o in summary.outcomes if o.expectation_type == AUDIT)
    assert audit.observed_value == {"cells_audited": 8, "failures": 0}


def test_by_town_suite_fails_recoverable_suppression_in_counts_only(
    by_town_unsafe_frame, suites_dir, by_town_spec
) -> None:
    summary = by_town(by_town_unsafe_frame, suites_dir, by_town_spec)
    assert failed_rules(summary) == {(AUDIT, None)}
    message = summary.message()
    assert "audit FAILED: 2 suppressed cells, 2 failing (2 exact)" in message
    # Neither the exposed cell's value (its interval, [3, 3]) nor which cell it is.
    assert "Andover" not in message and "[3" not in message
    audit = next(o for o in summary.failures if o.expectation_type == AUDIT)
    assert audit.observed_value == {"cells_audited": 2, "failures": 2}


def test_by_town_suite_fails_when_the_joint_audit_found_a_disclosure(
    by_town_frame, suites_dir, by_town_spec
) -> None:
    found = {"passed": False, "headline": "joint audit FAILED: 9 groups checked over 2 "
             "releases, 1 disclosed", "disclosed": 1, "releases": 2}  # fmt: skip
    parameters = {"suppression_spec": by_town_spec, "population_audit": found}
    summary = run(by_town_frame, "ocme_deaths_by_town_publishable", suites_dir,
                  parameters=parameters)  # fmt: skip
    assert failed_rules(summary) == {("expect_population_disclosure_audit_to_pass", None)}
    assert "1 disclosed" in summary.message()


def test_by_town_suite_without_the_suite_parameter_refuses_to_run(by_town_frame, suites_dir):
    with pytest.raises(ValidationFailed) as caught:
        run(by_town_frame, "ocme_deaths_by_town_publishable", suites_dir)
    message = str(caught.value)
    assert (
        "Suite parameter 'suppression_spec' of 'expect_table_disclosure_audit_to_pass'" in message
    )
    assert "ocme_deaths_by_town_publishable.json" in message and "given: none" in message


def _publish_small(f):
    row = f.index[f["deaths_suppressed"]][0]
    f.loc[row, ["deaths", "deaths_suppressed"]] = [3, False]


def _flag_without_value(f):
    f.loc[f.index[-1], "deaths"] = pd.NA


def _value_under_flag(f):
    f.loc[f.index[-1], "deaths_suppressed"] = True


def _dup_cell_id(f):
    f.loc[1, "cell_id"] = f.loc[0, "cell_id"]


def _bad_town(f):
    f.loc[10, "town"] = "Hartfrod"


def _bad_year(f):
    f.loc[10, "year"] = "2011"


def _bad_sex(f):
    f.loc[10, "sex"] = "male"


def _extra_column(f):
    f["town_fips"] = "09"


@pytest.mark.parametrize(
    ("breaker", "rule"),
    [
        (_publish_small, ("expect_column_values_to_not_be_small_counts", "deaths")),
        (_flag_without_value, ("expect_column_values_to_not_be_null", "deaths")),
        (_value_under_flag, ("expect_column_values_to_be_null", "deaths")),
        (_dup_cell_id, ("expect_column_values_to_be_unique", "cell_id")),
        (_bad_town, ("expect_column_values_to_be_in_set", "town")),
        (_bad_year, ("expect_column_values_to_be_in_set", "year")),
        (_bad_sex, ("expect_column_values_to_be_in_set", "sex")),
        (_extra_column, ("expect_table_columns_to_match_set", None)),
    ],
)
def test_by_town_suite_catches_each_rule(
    by_town_frame, suites_dir, by_town_spec, breaker, rule
) -> None:
    frame = by_town_frame.copy()
    breaker(frame)
    summary = by_town(frame, suites_dir, by_town_spec)
    assert rule in failed_rules(summary), summary.message()


def test_by_town_suite_checks_row_count(by_town_frame, suites_dir, by_town_spec) -> None:
    frame = by_town_frame[by_town_frame["town"] != "Woodstock"]
    summary = by_town(frame, suites_dir, by_town_spec)
    assert ("expect_table_row_count_to_equal", None) in failed_rules(summary)
    outcome = next(o for o in summary.failures if o.expectation_type.endswith("row_count_to_equal"))
    assert outcome.observed_value == 170 * 8 * 4


# --- ocme_deaths_records_publishable -------------------------------------------------------


@pytest.mark.parametrize("flag_dtype", ["bool", "boolean", "object"])
def test_records_suite_passes_on_valid_frame(records_frame, suites_dir, flag_dtype) -> None:
    frame = records_frame()
    frame["cocaine"] = frame["cocaine"].astype(flag_dtype)
    summary = run(
        frame, "ocme_deaths_records_publishable", suites_dir, parameters={"population_audit": JOINT}
    )
    assert summary.success, summary.message()


def _short_record_id(f):
    f.loc[0, "record_id"] = "abc"


def _upper_record_id(f):
    f.loc[0, "record_id"] = f.loc[0, "record_id"].upper() + "Z"


def _dup_record_id(f):
    f.loc[1, "record_id"] = f.loc[0, "record_id"]


def _bad_age_group(f):
    f.loc[0, "age_group"] = "20 - 29"


def _bad_records_year(f):
    f.loc[0, "year"] = 2020


def _flag_not_bool(f):
    f["fentanyl"] = f["fentanyl"].map({True: "Y", False: ""})


def _flag_null(f):
    f["heroin"] = f["heroin"].astype("object")
    f.loc[0, "heroin"] = None


def _adds_date(f):
    f["date_of_death"] = "2014-06-28"


def _adds_town(f):
    f["death_town"] = "Hartford"


@pytest.mark.parametrize(
    ("breaker", "rule"),
    [
        (_short_record_id, ("expect_column_values_to_match_regex", "record_id")),
        (_upper_record_id, ("expect_column_values_to_match_regex", "record_id")),
        (_dup_record_id, ("expect_column_values_to_be_unique", "record_id")),
        (_bad_age_group, ("expect_column_values_to_be_in_set", "age_group")),
        (_bad_records_year, ("expect_column_values_to_be_in_set", "year")),
        (_flag_not_bool, ("expect_column_values_to_be_in_set", "fentanyl")),
        (_flag_null, ("expect_column_values_to_not_be_null", "heroin")),
        (_adds_date, ("expect_table_columns_to_match_set", None)),
        (_adds_town, ("expect_table_columns_to_match_set", None)),
    ],
)
def test_records_suite_catches_each_rule(records_frame, suites_dir, breaker, rule) -> None:
    frame = records_frame()
    breaker(frame)
    summary = run(
        frame, "ocme_deaths_records_publishable", suites_dir, parameters={"population_audit": JOINT}
    )
    assert rule in failed_rules(summary), summary.message()


# --- opm_towns_publishable -----------------------------------------------------------------


def test_towns_suite_passes_on_valid_frame(towns_frame, suites_dir) -> None:
    summary = run(towns_frame, "opm_towns_publishable", suites_dir)
    assert summary.success, summary.message()


def _drop_town(f):
    return f.iloc[1:]


def _dup_town(f):
    f.loc[1, "town"] = f.loc[0, "town"]
    return f


def _misspelt_town(f):
    f.loc[0, "town"] = "Andovr"
    return f


def _bad_county(f):
    f.loc[0, "county"] = "Capitol"
    return f


def _wrong_county(f):
    f.loc[f["town"] == "Hartford", "county"] = "Tolland"
    return f


@pytest.mark.parametrize(
    ("breaker", "rule"),
    [
        (_drop_town, ("expect_table_row_count_to_equal", None)),
        (_dup_town, ("expect_column_values_to_be_unique", "town")),
        (_misspelt_town, ("expect_column_values_to_be_in_set", "town")),
        (_bad_county, ("expect_column_values_to_be_in_set", "county")),
        (_wrong_county, ("expect_column_pair_values_to_be_in_set", "town, county")),
    ],
)
def test_towns_suite_catches_each_rule(towns_frame, suites_dir, breaker, rule) -> None:
    frame = breaker(towns_frame.copy())
    summary = run(frame, "opm_towns_publishable", suites_dir)
    assert rule in failed_rules(summary), summary.message()


# --- ocme_deaths_records_source --------------------------------------------------------------


def source_records(records_frame) -> pd.DataFrame:
    """Flags as the SQL source gives them (0/1 integers)."""
    frame = records_frame()
    for flag in ("heroin", "cocaine", "fentanyl", "any_opioid"):
        frame[flag] = frame[flag].astype("int64")
    return frame


def test_records_source_suite_passes_with_integer_flags(records_frame, suites_dir) -> None:
    summary = run(source_records(records_frame), "ocme_deaths_records_source", suites_dir)
    assert summary.success, summary.message()


def test_records_source_suite_catches_bad_flags_and_years(records_frame, suites_dir) -> None:
    frame = source_records(records_frame)
    frame.loc[0, "heroin"] = 2
    frame.loc[1, "year"] = 2011
    frame.loc[2, "age_group"] = None
    summary = run(frame, "ocme_deaths_records_source", suites_dir)
    assert failed_rules(summary) == {
        ("expect_column_values_to_be_in_set", "heroin"),
        ("expect_column_values_to_be_between", "year"),
        ("expect_column_values_to_not_be_null", "age_group"),
    }
