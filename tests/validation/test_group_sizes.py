"""The k-anonymity gate for record-level tables."""

from __future__ import annotations

import pandas as pd

from ctdata.validation.group_sizes import small_groups


def _frame(groups: dict[tuple[str, str], int]) -> pd.DataFrame:
    rows = [key for key, n in groups.items() for _ in range(n)]
    return pd.DataFrame(rows, columns=["year", "sex"])


def test_groups_of_at_least_k_pass() -> None:
    verdict = small_groups(_frame({("2012", "Male"): 6, ("2012", "Female"): 9}), ["year", "sex"], 6)
    assert verdict == {"groups": 2, "small": 0, "rows_in_small": 0, "error": None}


def test_a_small_group_is_counted_not_shown() -> None:
    verdict = small_groups(_frame({("2012", "Male"): 6, ("2013", "Female"): 2}), ["year", "sex"], 6)
    assert verdict == {"groups": 2, "small": 1, "rows_in_small": 2, "error": None}


def test_unknown_column_is_an_error_not_a_pass() -> None:
    verdict = small_groups(_frame({("2012", "Male"): 6}), ["year", "age"], 6)
    assert verdict["small"] == -1 and "age" in verdict["error"]


def test_suite_expectation_fails_a_small_group(tmp_path) -> None:
    import json

    from ctdata.validation import run_suites

    suite = {
        "name": "k",
        "expectations": [
            {
                "type": "expect_table_group_sizes_to_be_at_least",
                "kwargs": {"columns": ["year", "sex"], "min_size": 6},
            }
        ],
    }
    (tmp_path / "k.json").write_text(json.dumps(suite))
    ok = run_suites(_frame({("2012", "Male"): 6}), ["k"], dataset="t", expectations_dir=tmp_path)
    assert ok.success
    bad = run_suites(
        _frame({("2012", "Male"): 6, ("2014", "Male"): 1}),
        ["k"],
        dataset="t",
        expectations_dir=tmp_path,
    )
    assert not bad.success
    assert "1 of 2 groups (1 rows) have fewer than 6 rows" in bad.message()
    assert "2014" not in bad.message()  # the group's values describe a real person
    assert bad.outcomes[0].observed_value == {
        "groups": 2,
        "small_groups": 1,
        "rows_in_small_groups": 1,
    }
