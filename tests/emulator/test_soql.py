"""SoQL reads through real sodapy: every operator, ordering, paging, aggregates, CSV, errors."""

from __future__ import annotations

import csv
import io

import pytest
import requests

from tests.emulator.support import make_dataset

TOWNS = ["Hartford", "New Haven", "Bristol", "Hartford", "Stamford", "Bristol", "Hartford"]


@pytest.fixture(scope="module")
def ds(owner):
    ds_id = make_dataset(owner, "SoQL")
    rows = []
    for i, town in enumerate(TOWNS):
        row = {
            "record_id": f"r{i}",
            "town": town,
            "deaths": i,
            "date": f"2014-0{i + 1}-15",
            "autopsy": i % 2 == 0,
        }
        if i == 6:
            del row["deaths"]
        rows.append(row)
    rows[1]["town"] = 'New Haven, "Elm City"'
    owner.upsert(ds_id, rows)
    return ds_id


def ids(rows):
    return [r["record_id"] for r in rows]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("deaths = 2", ["r2"]),
        ("deaths != 2", ["r0", "r1", "r3", "r4", "r5"]),
        ("deaths <> 2", ["r0", "r1", "r3", "r4", "r5"]),
        ("deaths < 2", ["r0", "r1"]),
        ("deaths <= 2", ["r0", "r1", "r2"]),
        ("deaths > 4", ["r5"]),
        ("deaths >= 4", ["r4", "r5"]),
        ("deaths > '4'", ["r5"]),
        ("town = 'Hartford' AND deaths > 0", ["r3"]),
        ("town = 'Stamford' OR deaths = 0", ["r0", "r4"]),
        ("NOT (town = 'Hartford' OR town = 'Bristol')", ["r1", "r4"]),
        ("(deaths = 1 OR deaths = 2) AND autopsy = true", ["r2"]),
        ("deaths IS NULL", ["r6"]),
        ("deaths IS NOT NULL AND deaths < 1", ["r0"]),
        ("town IN ('Bristol', 'Stamford')", ["r2", "r4", "r5"]),
        ("town NOT IN ('Bristol', 'Hartford')", ["r1", "r4"]),
        ("town LIKE 'Ha%'", ["r0", "r3", "r6"]),
        ("town LIKE '%elm%'", []),
        ("town NOT LIKE '%o%'", ["r1"]),
        ("autopsy = false", ["r1", "r3", "r5"]),
        ("date > '2014-04-01'", ["r3", "r4", "r5", "r6"]),
        ("date = '2014-01-15'", ["r0"]),
        ("date BETWEEN '2014-02-01' AND '2014-03-31'", ["r1", "r2"]),
        ("deaths * 2 = 6", ["r3"]),
        ("starts_with(town, 'Bri')", ["r2", "r5"]),
        ("upper(town) = 'STAMFORD'", ["r4"]),
    ],
)
def test_where_operators(owner, ds, where, expected):
    assert ids(owner.get(ds, where=where, order="record_id")) == expected


def test_simple_filters_and_q(owner, ds):
    assert ids(owner.get(ds, town="Bristol", order="record_id")) == ["r2", "r5"]
    assert ids(owner.get(ds, deaths="3")) == ["r3"]
    assert ids(owner.get(ds, q="elm city")) == ["r1"]
    assert ids(owner.get(ds, q="TFOR", order="record_id")) == ["r0", "r3", "r6"]


def test_select_aliases_system_fields_and_order(owner, ds):
    rows = owner.get(
        ds, select="record_id AS id, deaths, :id, :created_at", order="deaths DESC, record_id"
    )
    assert [r["id"] for r in rows] == ["r5", "r4", "r3", "r2", "r1", "r0", "r6"]
    assert set(rows[0]) == {"id", "deaths", ":id", ":created_at"}
    assert rows[0][":id"].startswith("row-")
    by_sid = owner.get(ds, order=":id DESC", select="record_id")
    assert ids(by_sid) == [f"r{i}" for i in range(6, -1, -1)]
    all_fields = owner.get(ds, limit=1, exclude_system_fields="false")
    assert {":id", ":created_at", ":updated_at"} <= set(all_fields[0])


def test_group_and_aggregates(owner, ds):
    rows = owner.get(
        ds,
        select="town, count(*) AS n, sum(deaths), max(deaths), min(date)",
        group="town",
        order="n DESC, town",
        where="town != 'Stamford'",
    )
    assert rows[0] == {
        "town": "Hartford",
        "n": "3",
        "sum_deaths": "3",
        "max_deaths": "3",
        "min_date": "2014-01-15T00:00:00.000",
    }
    assert [r["town"] for r in rows] == ["Hartford", "Bristol", 'New Haven, "Elm City"']
    assert owner.get(ds, select="avg(deaths)") == [{"avg_deaths": "2.5"}]
    assert owner.get(ds, select="count(*)", where="autopsy = true") == [{"count": "4"}]


def test_paging_with_limit_offset_and_get_all(owner, ds):
    pages = [ids(owner.get(ds, limit=3, offset=o)) for o in (0, 3, 6)]
    assert pages == [["r0", "r1", "r2"], ["r3", "r4", "r5"], ["r6"]]
    assert ids(owner.get_all(ds, limit=2)) == [f"r{i}" for i in range(7)]


def test_default_limit_is_1000(owner):
    big = make_dataset(owner, "Big", row_identifier=None)
    owner.upsert(big, [{"deaths": i} for i in range(1200)])
    assert len(owner.get(big)) == 1000
    assert len(owner.get(big, limit=5000)) == 1200


def test_csv_output_rfc4180(owner, ds):
    rows = owner.get(
        ds,
        content_type="csv",
        select="record_id, town, deaths, autopsy",
        where="record_id in ('r1', 'r6')",
        order="record_id",
    )
    assert rows == [
        ["record_id", "town", "deaths", "autopsy"],
        ["r1", 'New Haven, "Elm City"', "1", "false"],
        ["r6", "Hartford", "", "true"],
    ]
    raw = owner.session.get(
        f"http://{owner.domain}/resource/{ds}.csv",
        params={"$where": "record_id = 'r1'", "$select": "town"},
    ).text
    assert raw == 'town\r\n"New Haven, ""Elm City"""\r\n'


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"$where": "deaths = "}, "query.compiler.malformed"),
        ({"$where": "deaths = 1 AND"}, "query.compiler.malformed"),
        ({"$where": "town = 'unterminated"}, "query.compiler.malformed"),
        ({"$where": "(deaths = 1"}, "query.compiler.malformed"),
        ({"$where": "deaths = 1; DROP TABLE x"}, "query.compiler.malformed"),
        ({"$select": "town,"}, "query.compiler.malformed"),
        ({"$order": "town SIDEWAYS"}, "query.compiler.malformed"),
        ({"$limit": "ten"}, "query.compiler.malformed"),
        ({"$limit": "50001"}, "query.compiler.malformed"),
        ({"$where": "deaths > 'many'"}, "query.compiler.malformed"),
        ({"$where": "nope = 1"}, "query.soql.no-such-column"),
    ],
)
def test_malformed_queries_are_400(owner, ds, params, code):
    resp = owner.session.get(f"http://{owner.domain}/resource/{ds}.json", params=params)
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == code and body["error"] is True and body["message"]


def test_injection_attempt_is_just_a_literal(owner, ds):
    assert owner.get(ds, where="town = 'x'' OR 1=1 --'") == []
    assert owner.get(ds, town="x' OR '1'='1") == []


def test_soda_headers(owner, ds):
    resp = owner.session.get(
        f"http://{owner.domain}/resource/{ds}.json", params={"$select": "town, deaths"}
    )
    assert resp.headers["X-SODA2-Fields"] == '["town","deaths"]'
    assert resp.headers["X-SODA2-Types"] == '["text","number"]'
    assert list(csv.reader(io.StringIO("a,b")))  # csv module sanity for the reader above
    with pytest.raises(requests.HTTPError):
        owner.get(ds, query="SELECT *")
