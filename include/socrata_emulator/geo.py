"""Geospatial column types as Socrata stores them, and the SoQL functions on them.

point, multipoint, line, multiline, polygon and multipolygon values are GeoJSON geometries in
WGS 84, [longitude, latitude]; they are taken as GeoJSON or as WKT (`POINT (lon lat)`, what
CSV and DataSync send), a Polygon going into a multipolygon column (and a LineString into a
multiline, a Point into a multipoint) is wrapped as Socrata's `to_multipolygon` does, and a
ring that is not closed is refused. They are stored and answered as GeoJSON, and exported as
WKT in CSV. `location` is the legacy type: `{"latitude": "..", "longitude": "..",
"human_address": "{...}"}`, answered with numbers as strings.

SoQL: `within_box(col, nw_lat, nw_lon, se_lat, se_lon)` (latitude first, as Socrata's),
`within_circle(col, lat, lon, radius_m)`, `within_polygon(col, 'MULTIPOLYGON (...)')` and
`intersects(col, 'WKT')`, evaluated with shapely as SQLite functions.
"""

from __future__ import annotations

import math
import sqlite3
from functools import lru_cache
from typing import Any

import msgspec

GEOMETRY_TYPES = {
    "point": "Point",
    "multipoint": "MultiPoint",
    "line": "LineString",
    "multiline": "MultiLineString",
    "polygon": "Polygon",
    "multipolygon": "MultiPolygon",
}
_SINGLE = {"MultiPoint": "Point", "MultiLineString": "LineString", "MultiPolygon": "Polygon"}
EARTH_RADIUS_M = 6_371_008.8


class GeometryValueError(ValueError):
    """A value that is not a geometry of the column's type."""


def geometry_converter(dtype: str) -> Any:
    wanted = GEOMETRY_TYPES[dtype]

    def convert(value: Any) -> str:
        import shapely

        try:
            if isinstance(value, str):
                shape = shapely.from_wkt(value)
            elif isinstance(value, dict):
                shape = shapely.from_geojson(msgspec.json.encode(value))
            else:
                raise GeometryValueError(f"not a GeoJSON {wanted} or WKT")
        except shapely.errors.GEOSException as exc:
            raise GeometryValueError(f"Geometry invariant violation: {exc}") from None
        if shape is None or shape.is_empty:
            raise GeometryValueError(f"an empty {wanted}")
        mapping = shapely.geometry.mapping(shape)
        kind, coords = mapping["type"], mapping["coordinates"]
        if kind != wanted and _SINGLE.get(wanted) == kind:
            kind, coords = wanted, [coords]
        if kind != wanted:
            raise GeometryValueError(f"a {mapping['type']} is not a {wanted}")
        bounds = shape.bounds
        if not (-180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= bounds[3] <= 90):
            raise GeometryValueError("coordinates out of range (WGS 84 longitude, latitude)")
        return msgspec.json.encode({"type": kind, "coordinates": coords}).decode()

    return convert


def location(value: Any) -> str:
    if not isinstance(value, dict):
        raise GeometryValueError("a location is an object with latitude and longitude")
    out: dict[str, str] = {}
    for key in ("latitude", "longitude"):
        if value.get(key) is not None:
            out[key] = str(float(value[key]))
    address = value.get("human_address")
    if address is not None:
        out["human_address"] = (
            address if isinstance(address, str) else msgspec.json.encode(address).decode()
        )
    return msgspec.json.encode(out).decode()


def wkt(text: str) -> str:
    """A stored geometry as WKT (CSV export)."""
    import shapely

    return shapely.to_wkt(shapely.from_geojson(text), trim=True)


def location_csv(text: str) -> str:
    value = msgspec.json.decode(text)
    return f"({value.get('latitude', '')}, {value.get('longitude', '')})"


@lru_cache(maxsize=256)
def _shape(text: str) -> Any:
    import shapely

    if text.lstrip().startswith("{"):
        value = msgspec.json.decode(text)
        if "latitude" in value:  # a location
            return shapely.Point(float(value["longitude"]), float(value["latitude"]))
        return shapely.from_geojson(text)
    return shapely.from_wkt(text)


def _within_box(value: str | None, nw_lat: float, nw_lon: float, se_lat: float, se_lon: float):
    import shapely

    if value is None:
        return None
    box = shapely.box(float(nw_lon), float(se_lat), float(se_lon), float(nw_lat))
    return int(box.covers(_shape(value)))


def _within_circle(value: str | None, lat: float, lon: float, radius: float):
    if value is None:
        return None
    point = _shape(value).centroid
    la1, la2 = math.radians(float(lat)), math.radians(point.y)
    dla, dlo = la2 - la1, math.radians(point.x - float(lon))
    h = math.sin(dla / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin(dlo / 2) ** 2
    return int(2 * EARTH_RADIUS_M * math.asin(math.sqrt(h)) <= float(radius))


def _intersects(value: str | None, other: str):
    return None if value is None else int(_shape(value).intersects(_shape(other)))


def _within_polygon(value: str | None, polygon: str):
    return None if value is None else int(_shape(polygon).covers(_shape(value)))


# SoQL name -> (SQLite function, number of arguments after the column)
FUNCTIONS = {
    "within_box": ("geo_within_box", 4, _within_box),
    "within_circle": ("geo_within_circle", 3, _within_circle),
    "intersects": ("geo_intersects", 1, _intersects),
    "within_polygon": ("geo_within_polygon", 1, _within_polygon),
}


def register(conn: sqlite3.Connection) -> None:
    """Make the spatial functions callable from the stand-in's SQL."""
    for sql_name, arity, function in FUNCTIONS.values():
        conn.create_function(sql_name, arity + 1, function, deterministic=True)


def check_literal(function: str, wkt_text: Any) -> None:
    """A WKT literal of `intersects`/`within_polygon` must parse (a 400, not a 500)."""
    import shapely

    try:
        if not isinstance(wkt_text, str) or shapely.from_wkt(wkt_text) is None:
            raise GeometryValueError("empty")
    except (shapely.errors.GEOSException, GeometryValueError) as exc:
        raise GeometryValueError(
            f"{function}: {wkt_text!r} is not well-known text ({exc})"
        ) from None
