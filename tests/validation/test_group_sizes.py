"""The k-anonymity gate for record-level tables."""

from __future__ import annotations

import pandas as pd

from ctdata.validation.group_sizes import small_groups


def _frame(groups: dict[tuple[str, str], int]) -> pd.DataFrame:
    rows = [key for key, n in groups.items() for _ in range(n)]
    return pd.DataFrame(rows, columns=["year", "sex"])


def test_groups_of_at_least_k_pass() -> None:
    verdict = small_groups(_frame({("2012", "Male"): 6, ("2012", "Female"): 9}), ["year", "sex"], 6)
    assert verdict == {"groups": 2, "small": 0, "examples": [], "error": None}


def test_a_small_group_fails_and_is_shown() -> None:
    verdict = small_groups(_frame({("2012", "Male"): 6, ("2013", "Female"): 2}), ["year", "sex"], 6)
    assert verdict["small"] == 1
    assert verdict["examples"] == [{"year": "2013", "sex": "Female", "rows": 2}]


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
    assert "2014" in bad.message()
