"""A multipolygon dataset round-trips through the Socrata stand-in: sent as GeoJSON, stored
and served as GeoJSON, exported as `.geojson` and as WKT in CSV, filtered with SoQL's
within_box and intersects; a second publish sends nothing, and a geometry whose coordinates
are only formatted differently (or reprojected with noise below the canonical precision)
is not sent again."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests

from ctdata.portal.client import SocrataClient
from ctdata.portal.connection import PortalConnection
from ctdata.portal.schema import PortalColumn
from ctdata.publishing import StateStore, publish_parquet

USER, PASSWORD = "opm@ct.gov", "secret-pw-123"
COLUMNS = [
    PortalColumn("county", "County", "text"),
    PortalColumn("area", "Land area", "number"),
    PortalColumn("the_geom", "Boundary", "multipolygon"),
    PortalColumn("seat", "County seat", "point"),
    PortalColumn("river", "Main river", "line"),
]


def _square(lon: float, lat: float, d: float = 0.1) -> list[list[float]]:
    return [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]


def _rows(noise: float = 0.0, as_text: bool = False) -> dict[str, list]:
    shapes = [
        {"type": "MultiPolygon", "coordinates": [[_square(-73.0 + noise, 41.5)],
                                                 [_square(-72.5, 41.5)]]},
        {"type": "Polygon", "coordinates": [_square(-72.0, 41.8)]},  # promoted to Multi
    ]  # fmt: skip
    geoms = [json.dumps(s) for s in shapes]
    if as_text:  # the same shapes written as WKT with trailing zeros
        geoms = ["MULTIPOLYGON (((-73.000 41.50, -72.90 41.5, -72.9 41.6, -73 41.60, -73 41.5)), "
                 "((-72.5 41.5, -72.4 41.5, -72.4 41.6, -72.5 41.6, -72.5 41.5)))",
                 "POLYGON ((-72.0 41.8, -71.9 41.8, -71.9 41.9, -72.0 41.9, -72.0 41.8))"]  # fmt: skip
    return {
        "county": ["Fairfield", "Windham"],
        "area": [626.0, 512.0],
        "the_geom": geoms,
        "seat": ["POINT (-73.05 41.55)", '{"type": "Point", "coordinates": [-71.95, 41.85]}'],
        "river": [json.dumps({"type": "LineString", "coordinates": [[-73, 41.5], [-72.9, 41.6]]}),
                  None],
    }  # fmt: skip


def _parquet(path: Path, rows: dict[str, list]) -> Path:
    pq.write_table(pa.table(rows), path)
    return path


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    from socrata_emulator.testing import run_emulator

    with run_emulator(tmp_path_factory.mktemp("emu"), users=[f"{USER}:{PASSWORD}"]) as emu:
        yield emu


def _client(portal) -> SocrataClient:
    return SocrataClient(PortalConnection.from_url(portal.url, username=USER, password=PASSWORD))


def test_multipolygons_round_trip_and_a_second_publish_sends_nothing(portal, tmp_path) -> None:
    client = _client(portal)
    ds = client.create_dataset("Counties", COLUMNS, row_identifier="county")["id"]
    state = StateStore(f"sqlite:///{tmp_path / 'state.db'}")

    def publish(rows: dict[str, list], reconcile: bool = False):
        return publish_parquet(client, ds, _parquet(tmp_path / "c.parquet", rows),
                               columns=COLUMNS, method="sync", row_id="county", state=state,
                               reconcile=reconcile)  # fmt: skip

    first = publish(_rows())
    assert (first.created, first.verified) == (2, True)
    rows = requests.get(f"{portal.url}/resource/{ds}.json", params={"$order": "county"},
                        auth=(USER, PASSWORD), timeout=30).json()  # fmt: skip
    assert rows[1]["the_geom"] == {"type": "MultiPolygon",
                                   "coordinates": [[_square(-72.0, 41.8)]]}  # fmt: skip
    assert rows[0]["seat"] == {"type": "Point", "coordinates": [-73.05, 41.55]}
    assert "river" not in rows[1]  # empty: absent, as Socrata answers
    # Unchanged, re-formatted (WKT, trailing zeros), noise below 1e-7 degrees: nothing sent.
    for again in (_rows(), _rows(as_text=True), _rows(noise=1e-9)):
        result = publish(again)
        assert (result.created, result.updated, result.bytes_sent) == (0, 0, 0), result
    # The portal's answers fingerprint like the source: a reconcile read-back finds no change.
    result = publish(_rows(), reconcile=True)
    assert result.rows_read_back == 2 and result.updated == 0
    moved = publish(_rows(noise=0.01))
    assert (moved.created, moved.updated) == (0, 1)


def test_geojson_export_csv_wkt_and_spatial_soql(portal, tmp_path) -> None:
    client = _client(portal)
    ds = client.create_dataset("Counties 2", COLUMNS, row_identifier="county")["id"]
    publish_parquet(client, ds, _parquet(tmp_path / "c.parquet", _rows()), columns=COLUMNS,
                    method="sync", row_id="county",
                    state=StateStore(f"sqlite:///{tmp_path / 's.db'}"))  # fmt: skip
    auth = (USER, PASSWORD)
    geo = requests.get(f"{portal.url}/resource/{ds}.geojson", auth=auth, timeout=30)
    assert geo.headers["Content-Type"].startswith("application/vnd.geo+json")
    collection = geo.json()
    assert collection["type"] == "FeatureCollection"
    feature = collection["features"][0]
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"]["county"] == "Fairfield"
    assert feature["properties"]["area"] == "626"  # numbers as strings, as in JSON answers
    text = requests.get(f"{portal.url}/resource/{ds}.csv", auth=auth, timeout=30).text
    exported = list(csv.DictReader(io.StringIO(text)))
    assert exported[0]["seat"] == "POINT (-73.05 41.55)"
    assert exported[1]["the_geom"].startswith("MULTIPOLYGON (((-72 41.8")

    def where(clause: str) -> list[str]:
        answer = requests.get(f"{portal.url}/resource/{ds}.json",
                              params={"$where": clause, "$select": "county"}, auth=auth,
                              timeout=30)  # fmt: skip
        assert answer.status_code == 200, answer.text
        return [r["county"] for r in answer.json()]

    # within_box(column, north-west latitude, longitude, south-east latitude, longitude)
    assert where("within_box(seat, 42.0, -73.5, 41.0, -72.5)") == ["Fairfield"]
    assert where("within_box(the_geom, 42.0, -72.1, 41.7, -71.5)") == ["Windham"]
    assert where("intersects(the_geom, 'POINT (-72.45 41.55)')") == ["Fairfield"]
    assert where("intersects(the_geom, 'LINESTRING (-73.5 41.85, -71 41.85)')") == ["Windham"]
    assert where("within_circle(seat, 41.85, -71.95, 1000)") == ["Windham"]
    bad = requests.get(f"{portal.url}/resource/{ds}.json",
                       params={"$where": "intersects(the_geom, 'NOT WKT')"}, auth=auth,
                       timeout=30)  # fmt: skip
    assert bad.status_code == 400 and "well-known text" in bad.json()["message"]


def test_the_stand_in_refuses_a_geometry_of_another_type_or_an_open_ring(portal) -> None:
    client = _client(portal)
    ds = client.create_dataset("Shapes", COLUMNS[:3], row_identifier="county")["id"]
    url, auth = f"{portal.url}/resource/{ds}.json", (USER, PASSWORD)
    line = {"type": "LineString", "coordinates": [[-73, 41], [-72, 42]]}
    answer = requests.post(url, json=[{"county": "X", "the_geom": line}], auth=auth, timeout=30)
    assert answer.status_code == 400 and "not a MultiPolygon" in answer.text
    open_ring = "POLYGON ((-73 41, -72 41, -72 42, -73 42))"
    answer = requests.post(url, json=[{"county": "X", "the_geom": open_ring}], auth=auth,
                           timeout=30)  # fmt: skip
    assert answer.status_code == 400


def test_the_publisher_names_a_misfit_geometry_before_sending_anything(portal, tmp_path) -> None:
    from ctdata.errors import PublishError

    client = _client(portal)
    ds = client.create_dataset("Misfits", COLUMNS, row_identifier="county")["id"]
    rows = _rows()
    rows["the_geom"][1] = json.dumps({"type": "Point", "coordinates": [-72, 41]})
    rows["seat"][0] = "POINT (1000000 650000)"  # State Plane feet, not longitude/latitude
    with pytest.raises(PublishError, match="the_geom: 1 value.*MultiPolygon geometries"):
        publish_parquet(client, ds, _parquet(tmp_path / "m.parquet", rows), columns=COLUMNS,
                        method="sync", row_id="county",
                        state=StateStore(f"sqlite:///{tmp_path / 'm.db'}"))  # fmt: skip
    assert client.count_rows(ds) == 0
