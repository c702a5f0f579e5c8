"""The privacy gate expectation on hand-made frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ctdata.errors import ValidationFailed
from ctdata.validation import ExpectColumnValuesToNotBeSmallCounts
from ctdata.validation.context import get_batch
from ctdata.validation.suites import build_expectations

SUMMARY = {"result_format": "SUMMARY"}


def check(frame: pd.DataFrame, **kwargs):
    expectation = ExpectColumnValuesToNotBeSmallCounts(**kwargs)
    return get_batch(frame).validate(expectation, result_format=SUMMARY)


def test_nulls_zeros_and_large_counts_pass() -> None:
    frame = pd.DataFrame({"n": pd.array([0, None, 6, 120, 0], dtype="Int64")})
    result = check(frame, column="n")
    assert result.success
    assert result.result["unexpected_count"] == 0


@pytest.mark.parametrize("small", [1, 2, 3, 4, 5])
def test_every_count_from_one_to_threshold_fails(small: int) -> None:
    frame = pd.DataFrame({"n": pd.array([0, None, small, 40], dtype="Int64")})
    result = check(frame, column="n")
    assert not result.success
    assert result.result["unexpected_count"] == 1
    assert list(result.result["partial_unexpected_list"]) == [small]


def test_threshold_is_a_parameter() -> None:
    frame = pd.DataFrame({"n": [0, 3, 7, 11]})
    assert not check(frame, column="n", threshold=10).success
    assert check(frame, column="n", threshold=2).success
    tight = check(frame, column="n", threshold=10)
    assert sorted(tight.result["partial_unexpected_list"]) == [3, 7]


def test_float_and_text_counts_fail_closed() -> None:
    frame = pd.DataFrame({"n": ["12", "2", None, "n/a", "0"]})
    result = check(frame, column="n")
    assert not result.success
    assert sorted(result.result["partial_unexpected_list"]) == ["2", "n/a"]
    floats = pd.DataFrame({"n": [0.0, 0.5, 6.0, float("nan")]})
    assert check(floats, column="n").result["partial_unexpected_list"] == [0.5]


def test_mostly_below_one_is_refused(tmp_path: Path) -> None:
    data = {
        "expectations": [
            {
                "type": "expect_column_values_to_not_be_small_counts",
                "kwargs": {"column": "n", "mostly": 0.9},
            }
        ]
    }
    with pytest.raises(ValidationFailed, match="privacy gate must hold for every row"):
        build_expectations(data, tmp_path / "s.json")


def test_registered_by_snake_case_name() -> None:
    data = {
        "expectations": [
            {
                "type": "expect_column_values_to_not_be_small_counts",
                "kwargs": {"column": "n", "threshold": 3},
            }
        ]
    }
    (built,) = build_expectations(data, Path("s.json"))
    assert isinstance(built, ExpectColumnValuesToNotBeSmallCounts)
    assert built.threshold == 3
