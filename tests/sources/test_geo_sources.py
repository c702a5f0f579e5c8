"""Geospatial sources: an ArcGIS feature layer paged against the agency API stand-in with
faults, GeoJSON and zipped shapefiles in Connecticut State Plane reprojected to EPSG:4326 by
PROJ, and geometries from WKT and x/y columns."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import shapefile
from pyproj import CRS, Transformer

from agency_api_emulator import AgencyApi, Fault, run_api
from ctdata.errors import SourceError
from ctdata.sources import extract
from tests.sources.support import FAST_RETRY, dataset, lookup

STATE_PLANE = "EPSG:2234"  # NAD83 / Connecticut (ftUS)
TO_PLANE = Transformer.from_crs("EPSG:4326", STATE_PLANE, always_xy=True)
HARTFORD = (-72.6851, 41.7637)
COLUMNS = [
    {"name": "Town", "field": "town", "type": "text", "description": "Name of the town"},
    {"name": "Shape", "field": "shape", "type": "multipolygon", "description": "Boundary"},
]


def _square(lon: float, lat: float, d: float = 0.01) -> list[list[float]]:
    return [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]


def _features(n: int) -> list[dict]:
    return [
        {"type": "Feature", "properties": {"OBJECTID": i + 1, "NAME": f"Town {i}", "CODE": i % 2},
         "geometry": {"type": "Polygon", "coordinates": [_square(-73 + i / 10, 41.5)]}}
        for i in range(n)
    ]  # fmt: skip


def _arcgis_source(**extra) -> dict:
    return {"kind": "arcgis", "conn_id": "gis", "layer": "arcgis/rest/services/Towns/FeatureServer/0",
            "rename": {"NAME": "town"}, "geometry_field": "shape", "retry": FAST_RETRY,
            "out_fields": ["NAME"], **extra}  # fmt: skip


def test_an_arcgis_layer_is_read_in_pages_ordered_by_object_id() -> None:
    features = _features(7)
    api = AgencyApi([], features=list(reversed(features)), max_record_count=3)
    with run_api(api) as url:
        frame = extract(dataset(_arcgis_source(page_size=1000), COLUMNS), connections=lookup(url))
    assert frame["town"].tolist() == [f"Town {i}" for i in range(7)]
    queries = [q for p, q in api.requests if p.endswith("/query") and "resultOffset" in q]
    assert [q["resultOffset"] for q in queries] == ["0", "3", "6"]
    assert {q["resultRecordCount"] for q in queries} == {"3"}  # capped at maxRecordCount
    assert all(q["outSR"] == "4326" and q["f"] == "geojson" for q in queries)
    assert all(q["orderByFields"] == "OBJECTID" and q["outFields"] == "NAME" for q in queries)
    assert json.loads(frame["shape"][0])["coordinates"][0][0] == [-73.0, 41.5]


def test_an_arcgis_where_clause_and_faults_in_and_outside_the_answer() -> None:
    api = AgencyApi([], features=_features(6), max_record_count=2)
    api.fail("/arcgis", Fault(429, retry_after="0"), after=3)
    api.fail("/arcgis", Fault(arcgis_code=503), after=3)  # ArcGIS's error inside a 200
    api.fail("/arcgis", Fault(0), after=4)
    with run_api(api) as url:
        frame = extract(dataset(_arcgis_source(where="CODE=1"), COLUMNS), connections=lookup(url))
    assert frame["town"].tolist() == ["Town 1", "Town 3", "Town 5"]


def test_an_arcgis_error_that_retrying_cannot_fix_fails_at_once() -> None:
    api = AgencyApi([], features=_features(3))
    api.fail("/arcgis", Fault(arcgis_code=400), after=2, times=5)
    with run_api(api) as url, pytest.raises(SourceError, match="ArcGIS answered error 400"):
        extract(dataset(_arcgis_source(), COLUMNS), connections=lookup(url))


def _plane_collection() -> dict:
    ring = [list(TO_PLANE.transform(x, y)) for x, y in _square(*HARTFORD)]
    return {"type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2234"}},
            "features": [{"type": "Feature", "properties": {"NAME": "Hartford"},
                          "geometry": {"type": "Polygon", "coordinates": [ring]}}]}  # fmt: skip


def _near_hartford(text: str) -> None:
    geometry = json.loads(text)
    assert geometry["type"] == "Polygon"
    assert geometry["coordinates"][0][0] == pytest.approx(list(HARTFORD), abs=1e-7)


def test_a_geojson_file_in_state_plane_is_reprojected(tmp_path) -> None:
    path = tmp_path / "towns.geojson"
    path.write_text(json.dumps(_plane_collection()))
    source = {"kind": "geojson", "path": str(path), "rename": {"NAME": "town"},
              "geometry_field": "shape"}  # fmt: skip
    frame = extract(dataset(source, COLUMNS))
    assert frame["town"].tolist() == ["Hartford"]
    _near_hartford(frame["shape"][0])


def test_a_zipped_shapefile_takes_its_crs_from_the_prj(tmp_path) -> None:
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON) as writer:
        writer.field("NAME", "C", size=40)
        ring = [list(TO_PLANE.transform(x, y)) for x, y in _square(*HARTFORD)]
        writer.poly([ring[::-1]])  # shapefile outer rings run clockwise
        writer.record("Hartford")
    path = tmp_path / "towns.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for ext, buffer in ((".shp", shp), (".shx", shx), (".dbf", dbf)):
            archive.writestr(f"towns{ext}", buffer.getvalue())
        archive.writestr("towns.prj", CRS(STATE_PLANE).to_wkt("WKT1_ESRI"))
    source = {"kind": "shapefile", "path": str(path), "rename": {"NAME": "town"},
              "geometry_field": "shape"}  # fmt: skip
    frame = extract(dataset(source, COLUMNS))
    assert frame["town"].tolist() == ["Hartford"]
    ring = json.loads(frame["shape"][0])["coordinates"][0]
    assert sorted(map(tuple, ring))[0] == pytest.approx(HARTFORD, abs=1e-7)


def test_a_shapefile_without_prj_or_crs_is_refused(tmp_path) -> None:
    path = tmp_path / "bare.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("bare.shp", b"")
        archive.writestr("bare.dbf", b"")
    with pytest.raises(SourceError, match="no .prj file: declare the source's 'crs'"):
        extract(dataset({"kind": "shapefile", "path": str(path)}, COLUMNS))


def test_geometry_from_wkt_and_from_state_plane_x_y_columns(tmp_path) -> None:
    x, y = TO_PLANE.transform(*HARTFORD)
    path = tmp_path / "sites.csv"
    path.write_text(f"town,x,y,wkt\nHartford,{x},{y},POINT ({HARTFORD[0]} {HARTFORD[1]})\n")
    point = [{"name": "Town", "field": "town", "type": "text", "description": "Name of the town"},
             {"name": "Site", "field": "site", "type": "point", "description": "Where it is"}]  # fmt: skip
    by_xy = {"kind": "csv", "path": str(path),
             "geometry": {"output": "site", "longitude": "x", "latitude": "y", "crs": STATE_PLANE}}  # fmt: skip
    by_wkt = {"kind": "csv", "path": str(path), "geometry": {"output": "site", "wkt": "wkt"}}
    for source in (by_xy, by_wkt):
        frame = extract(dataset(source, point))
        assert "x" not in frame.columns or source is by_wkt
        coords = json.loads(frame["site"][0])["coordinates"]
        assert coords == pytest.approx(list(HARTFORD), abs=1e-7)


def test_an_unknown_crs_names_itself() -> None:
    from ctdata.errors import ConfigurationError
    from ctdata.sources.geo import reproject

    with pytest.raises(ConfigurationError, match="EPSG:99999.*Connecticut State Plane"):
        reproject([{"type": "Point", "coordinates": [1, 2]}], "EPSG:99999")
