"""GX suites validated batch by batch give what one whole-frame run gives: counts summed,
`mostly` on the merged proportion, row counts and uniqueness over the whole table (a duplicate
split across two batches included)."""

from __future__ import annotations

import great_expectations as gx
import numpy as np
import pandas as pd
import pytest

from ctdata.validation.batched import mergeable, validate_batches
from ctdata.validation.context import validate_suites
from ctdata.validation.runner import RESULT_FORMAT

E = gx.expectations
TABLE = pd.DataFrame({
    "id": ["a", "b", "c", "d", "b", "e", None, "f", "g", "a"],  # "b" in batches 1 and 2
    "year": [2012, 2013, 2014, 2015, 2016, 2030, 2017, np.nan, 2018, 2019],
    "town": ["Avon", "Bolton", "Avon", "Nowhere", "Avon", "Bolton", "Avon", None, "Avon", "X"],
    "sex": ["F", "M", "F", "F", "M", "F", "M", "F", "F", "M"],
})  # fmt: skip


def suite(*expectations: object) -> gx.ExpectationSuite:
    return gx.ExpectationSuite(name="batched", expectations=list(expectations))


SUITES = {
    "failing": suite(
        E.ExpectColumnValuesToBeUnique(column="id"),
        E.ExpectCompoundColumnsToBeUnique(column_list=["town", "sex"]),
        E.ExpectColumnValuesToNotBeNull(column="id"),
        E.ExpectColumnValuesToBeInSet(column="town", value_set=["Avon", "Bolton"], mostly=0.8),
        E.ExpectColumnValuesToBeBetween(column="year", min_value=2012, max_value=2020),
        E.ExpectTableRowCountToEqual(value=10),
        E.ExpectTableRowCountToBeBetween(min_value=11),
        E.ExpectTableColumnsToMatchSet(column_set=["id", "year", "town", "sex"]),
        E.ExpectColumnValuesToMatchRegex(column="sex", regex="^[FM]$"),
    ),
    "mostly": suite(
        E.ExpectColumnValuesToBeUnique(column="id", mostly=0.5),
        E.ExpectColumnValuesToBeInSet(column="town", value_set=["Avon", "Bolton"], mostly=0.7),
        E.ExpectColumnValuesToNotBeNull(column="year", mostly=0.9),
    ),
}


def figures(result: object) -> list[tuple[object, ...]]:
    out = []
    for r in result.results:  # type: ignore[attr-defined]
        body = {k: v for k, v in r.result.items() if k != "partial_unexpected_list"}
        out.append((r.expectation_config.type, str(r.expectation_config.kwargs), r.success, body))
    return sorted(out, key=str)


@pytest.mark.parametrize("name", sorted(SUITES))
@pytest.mark.parametrize("size", [3, 4, 7])
def test_batches_merged_equal_the_whole_frame(name: str, size: int) -> None:
    chosen = SUITES[name]
    assert mergeable(chosen)
    whole = validate_suites(TABLE, [chosen], RESULT_FORMAT, {})[0]

    def frames() -> list[pd.DataFrame]:
        return [TABLE.iloc[i : i + size].reset_index(drop=True) for i in range(0, 10, size)]

    merged = validate_batches(frames, [chosen], RESULT_FORMAT, {})[0]
    assert figures(merged) == figures(whole)
    assert (merged.success, merged.statistics) == (whole.success, whole.statistics)


def test_the_duplicate_across_batches_is_what_fails_uniqueness() -> None:
    unique = suite(E.ExpectColumnValuesToBeUnique(column="id"))
    table = TABLE.iloc[:6]  # "b" at rows 2 and 5: one in each batch of 3
    batches = [table.iloc[:3], table.iloc[3:]]
    assert all(validate_suites(b, [unique], RESULT_FORMAT, {})[0].success for b in batches)
    [merged] = validate_batches(lambda: batches, [unique], RESULT_FORMAT, {})
    assert not merged.success and merged.results[0].result["unexpected_count"] == 2
