"""Pure units behind the wire format: value conversion, row ids, SoQL compilation."""

from __future__ import annotations

import pytest

from socrata_emulator.coerce import (
    BadValue,
    convert_column,
    decode_row_id,
    encode_row_id,
    number_text,
)
from socrata_emulator.faults import FAULT_KINDS, fault_sequence
from socrata_emulator.models import Column, Dataset
from socrata_emulator.soql import SoqlError, compile_query


@pytest.mark.parametrize("sid", [0, 1, 31, 32, 999_999, 2**40 - 1])
def test_row_id_round_trip(sid):
    text = encode_row_id(sid)
    assert text.startswith("row-") and len(text) == 13
    assert decode_row_id(text) == sid


@pytest.mark.parametrize(
    ("value", "text"),
    [(12, "12"), (3.5, "3.5"), (1e-05, "0.00001"), (1e20, "100000000000000000000")],
)
def test_number_text(value, text):
    assert number_text(value) == text


def test_dates_normalize_to_floating_timestamps():
    out = convert_column(
        "calendar_date", ["2014-03-26", "2014-03-26T22:38:00", "2014-03-26T22:38:00.5", None]
    )
    assert out == [
        "2014-03-26T00:00:00.000",
        "2014-03-26T22:38:00.000",
        "2014-03-26T22:38:00.500",
        None,
    ]


def test_bad_value_reports_index_and_value():
    with pytest.raises(BadValue) as err:
        convert_column("number", [1, "2", "1_000", 4])
    assert err.value.index == 2 and err.value.value == "1_000"
    with pytest.raises(BadValue):
        convert_column("number", [float("nan")])


def _ds() -> Dataset:
    return Dataset(
        "abcd-1234",
        "x",
        "o",
        columns=[
            Column(1, "town", "Town", "text", position=1),
            Column(2, "n", "N", "number", position=2),
        ],
    )


def test_compiled_sql_binds_user_text_as_parameters():
    q = compile_query(_ds(), {"$where": "town = 'a\"; DROP TABLE x; --' OR n > '5'"})
    assert "DROP" not in q.sql
    assert 'a"; DROP TABLE x; --' in q.params and 5 in q.params


def test_unknown_function_and_column_codes():
    with pytest.raises(SoqlError) as err:
        compile_query(_ds(), {"$select": "frobnicate(n)"})
    assert err.value.code == "query.soql.no-such-function"
    with pytest.raises(SoqlError) as err:
        compile_query(_ds(), {"$order": "missing"})
    assert err.value.code == "query.soql.no-such-column"


def test_fault_plan_is_seeded_and_rate_shaped():
    plan = fault_sequence(0.3, 11, 2000)
    assert plan == fault_sequence(0.3, 11, 2000) and plan != fault_sequence(0.3, 12, 2000)
    share = sum(f is not None for f in plan) / len(plan)
    assert 0.25 < share < 0.35
    assert {f for f in plan if f} == set(FAULT_KINDS)
    assert fault_sequence(0.0, 11, 50) == [None] * 50
