"""Row writes through real sodapy: upsert counts, deletes, replace, types, atomicity."""

from __future__ import annotations

import io

import pytest
import requests

from tests.emulator.support import make_dataset

ROW = {
    "record_id": "r1",
    "town": "Hartford",
    "deaths": "12",
    "date": "2014-03-26",
    "autopsy": True,
    "location": "POINT (-72.68 41.76)",
    "source": "https://portal.ct.gov/ocme",
}


def _counts(created=0, updated=0, deleted=0, by_rid=0, by_sid=0, errors=0):
    return {
        "Errors": errors,
        "Rows Deleted": deleted,
        "Rows Updated": updated,
        "By SID": by_sid,
        "Rows Created": created,
        "By RowIdentifier": by_rid,
    }


def test_upsert_create_update_delete_counts(owner):
    ds = make_dataset(owner)
    assert owner.upsert(ds, [ROW, {"record_id": "r2", "deaths": 3.5}]) == _counts(created=2)
    result = owner.upsert(
        ds,
        [
            {"record_id": "r1", "deaths": 13},
            {"record_id": "r2", ":deleted": True},
            {"record_id": "r3", "town": "Bristol"},
            {"record_id": "r3", "town": "Bristol CT"},
        ],
    )
    assert result == _counts(created=1, updated=2, deleted=1, by_rid=3)
    rows = owner.get(ds, order="record_id")
    assert [r["record_id"] for r in rows] == ["r1", "r3"]
    # an update touches only the fields it names
    assert rows[0]["town"] == "Hartford" and rows[0]["deaths"] == "13"
    assert rows[1] == {"record_id": "r3", "town": "Bristol CT"}


def test_values_are_returned_in_socrata_wire_format(owner):
    ds = make_dataset(owner)
    owner.upsert(
        ds,
        [
            ROW,
            {
                "record_id": "r2",
                "deaths": "3.50",
                "date": "2014-03-26T22:38:00",
                "autopsy": "false",
                "location": {"type": "Point", "coordinates": [-72.9, 41.3]},
                "source": {"url": "https://example.org", "description": "Example"},
            },
            {"record_id": "r3", "date": "2014-03-26T22:38:00.000", "town": None},
        ],
    )
    r1, r2, r3 = owner.get(ds, order="record_id")
    assert r1 == {
        "record_id": "r1",
        "town": "Hartford",
        "deaths": "12",
        "date": "2014-03-26T00:00:00.000",
        "autopsy": True,
        "location": {"type": "Point", "coordinates": [-72.68, 41.76]},
        "source": {"url": "https://portal.ct.gov/ocme"},
    }
    assert r2["deaths"] == "3.5" and r2["autopsy"] is False
    assert r2["date"] == "2014-03-26T22:38:00.000"
    assert r2["location"] == {"type": "Point", "coordinates": [-72.9, 41.3]}
    assert r2["source"] == {"url": "https://example.org", "description": "Example"}
    assert r3 == {"record_id": "r3", "date": "2014-03-26T22:38:00.000"}  # nulls are omitted


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("deaths", "twelve"),
        ("date", "2014-13-01"),
        ("autopsy", "maybe"),
        ("location", "POINT (x y)"),
        ("source", "not a url"),
        ("town", {"a": 1}),
    ],
)
def test_bad_value_in_row_3_of_5_applies_nothing(owner, field, value):
    ds = make_dataset(owner)
    owner.upsert(ds, [{"record_id": "keep", "deaths": 1}])
    rows = [{"record_id": f"n{i}", "deaths": i} for i in range(5)]
    rows[0] = {"record_id": "keep", "deaths": 99}
    rows[2] = {"record_id": "n2", field: value}
    with pytest.raises(requests.HTTPError) as err:
        owner.upsert(ds, rows)
    resp = err.value.response
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "invalid_request" and body["error"] is True
    assert f"column '{field}'" in body["message"] and "row 3" in body["message"]
    assert owner.get(ds) == [{"record_id": "keep", "deaths": "1"}]


def test_unknown_field_is_named(owner):
    ds = make_dataset(owner)
    with pytest.raises(requests.HTTPError) as err:
        owner.upsert(ds, [{"record_id": "a"}, {"record_id": "b", "townn": "x"}])
    assert err.value.response.status_code == 400
    assert "'townn'" in err.value.response.json()["message"]
    assert "row 2" in err.value.response.json()["message"]


def test_without_row_identifier_rows_append_and_delete_by_sid(owner):
    ds = make_dataset(owner, row_identifier=None)
    assert owner.upsert(ds, [{"town": "A"}, {"town": "A"}]) == _counts(created=2)
    assert owner.upsert(ds, [{"town": "B"}]) == _counts(created=1)
    rows = owner.get(ds, select=":id, town", order=":id")
    assert [r["town"] for r in rows] == ["A", "A", "B"]
    first, second = rows[0][":id"], rows[1][":id"]
    result = owner.upsert(ds, [{":id": first, ":deleted": True}, {":id": second, "town": "C"}])
    assert result == _counts(deleted=1, updated=1, by_sid=2)
    assert [r["town"] for r in owner.get(ds, order=":id")] == ["C", "B"]


def test_replace_all_rows(owner):
    ds = make_dataset(owner)
    owner.upsert(ds, [{"record_id": "a"}, {"record_id": "b"}, {"record_id": "c"}])
    result = owner.replace(ds, [{"record_id": "x", "deaths": 1}, {"record_id": "y"}])
    assert result == _counts(created=2, deleted=3)
    assert [r["record_id"] for r in owner.get(ds, order="record_id")] == ["x", "y"]


def test_delete_one_row_by_identifier_and_by_sid(owner, emu):
    ds = make_dataset(owner)
    owner.upsert(ds, [{"record_id": "a"}, {"record_id": "b"}, {"record_id": "c"}])
    owner.delete(ds, row_id="b")
    sid = owner.get(ds, select=":id", where="record_id = 'c'")[0][":id"]
    owner.delete(ds, row_id=sid)
    assert owner.get(ds) == [{"record_id": "a"}]
    resp = owner.session.delete(f"{emu.url}/resource/{ds}/zzz.json")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"


def test_rows_updated_at_bumped_by_writes(owner):
    ds = make_dataset(owner)
    before = owner.get_metadata(ds)
    owner.upsert(ds, [{"record_id": "a"}])
    after = owner.get_metadata(ds)
    assert after["rowsUpdatedAt"] >= before["rowsUpdatedAt"]
    assert after["viewLastModified"] == before["viewLastModified"]


def test_csv_upsert_body(owner):
    ds = make_dataset(owner)
    body = io.StringIO(
        'record_id,town,deaths,autopsy\r\n"a","Hartford, CT",4,true\r\nb,,5.25,false\r\n'
    )
    assert owner.upsert(ds, body) == _counts(created=2)
    rows = owner.get(ds, order="record_id")
    assert rows == [
        {"record_id": "a", "town": "Hartford, CT", "deaths": "4", "autopsy": True},
        {"record_id": "b", "deaths": "5.25", "autopsy": False},
    ]


def test_large_upsert_in_one_request(owner):
    ds = make_dataset(owner)
    rows = [{"record_id": str(i), "town": f"t{i % 169}", "deaths": i % 7} for i in range(20000)]
    assert owner.upsert(ds, rows) == _counts(created=20000)
    assert owner.get(ds, select="count(*)") == [{"count": "20000"}]
    rows = [{"record_id": str(i), "deaths": 100} for i in range(10000, 30000)]
    assert owner.upsert(ds, rows) == _counts(created=10000, updated=10000, by_rid=10000)
    assert owner.get(ds, select="sum(deaths)", where="deaths = 100") == [{"sum_deaths": "2000000"}]


def test_single_row_object_is_accepted(owner):
    ds = make_dataset(owner)
    assert owner.upsert(ds, {"record_id": "solo", "deaths": 2}) == _counts(created=1)
    assert owner.get(ds) == [{"record_id": "solo", "deaths": "2"}]
