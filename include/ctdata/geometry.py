"""Geometries as the portal stores them: GeoJSON in EPSG:4326, [longitude, latitude] order.

One canonical text per geometry, used by sources (what is staged), the publisher (what is sent
and fingerprinted) and read-backs (what the portal answered): parsed from GeoJSON, WKT or WKB,
promoted to the column's type where Socrata does (a Polygon into a multipolygon column),
coordinates rounded to 7 decimals (about a centimetre) and written compactly. So "41.50" and
"41.5", or a reprojection that differs in the 12th decimal, fingerprint alike and an unchanged
geometry is never sent again.

OGC validity (self-intersections, rings crossing) is checked apart, by the Great Expectations
expectation in ctdata.validation.geometry: the portal stores such shapes, but maps misdraw them.
"""

from __future__ import annotations

import json
import math
from typing import Any

# Portal column type -> the GeoJSON geometry type it stores.
GEOMETRY_TYPES: dict[str, str] = {
    "point": "Point",
    "multipoint": "MultiPoint",
    "line": "LineString",
    "multiline": "MultiLineString",
    "polygon": "Polygon",
    "multipolygon": "MultiPolygon",
}
# Single geometries a multi column takes, wrapped (as Socrata's to_multipolygon does).
_PROMOTE = {"MultiPoint": "Point", "MultiLineString": "LineString", "MultiPolygon": "Polygon"}
_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "Polygon": 2, "MultiLineString": 2,
          "MultiPolygon": 3}  # fmt: skip
DECIMALS = 7


class GeometryError(ValueError):
    """A value that is not a geometry of the column's type; the message says why."""


def is_geometry_type(data_type: str) -> bool:
    return data_type in GEOMETRY_TYPES


def canonical_geojson(value: Any, data_type: str) -> str | None:
    """The canonical GeoJSON text of a value for a column of `data_type` (None when empty);
    raises GeometryError when it is not one."""
    geometry = parse_geometry(value)
    if geometry is None:
        return None
    wanted = GEOMETRY_TYPES[data_type]
    kind, coordinates = geometry["type"], geometry["coordinates"]
    if kind != wanted and _PROMOTE.get(wanted) == kind:
        kind, coordinates = wanted, [coordinates]
    if kind != wanted:
        raise GeometryError(f"a {geometry['type']}, not a {wanted}")
    rounded = _rounded(coordinates, _DEPTH[kind], kind)
    return json.dumps({"type": kind, "coordinates": rounded}, separators=(",", ":"))


def parse_geometry(value: Any) -> dict[str, Any] | None:
    """A GeoJSON geometry mapping from GeoJSON (text or mapping), WKT text or WKB bytes."""
    if value is None or value == "" or value == b"":
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return _from_shapely(bytes(value), "wkb")
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("{"):
            return _from_shapely(text, "wkt")
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise GeometryError(f"not GeoJSON ({exc})") from None
    if hasattr(value, "__geo_interface__"):
        value = value.__geo_interface__
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
        if value is None:
            return None
    if not isinstance(value, dict) or value.get("type") not in _DEPTH:
        raise GeometryError("not a GeoJSON geometry (Point, LineString, Polygon or Multi-)")
    if "coordinates" not in value:
        raise GeometryError(f"a {value['type']} without coordinates")
    return {"type": value["type"], "coordinates": value["coordinates"]}


def _from_shapely(data: str | bytes, form: str) -> dict[str, Any] | None:
    import shapely

    try:
        shape = shapely.from_wkt(data) if form == "wkt" else shapely.from_wkb(data)
    except shapely.errors.GEOSException as exc:
        raise GeometryError(f"not {form.upper()} ({exc})") from None
    if shape is None or shape.is_empty:
        return None
    mapping = shapely.geometry.mapping(shape)
    if mapping["type"] not in _DEPTH:
        raise GeometryError(f"a {mapping['type']}, which the portal does not store")
    return dict(mapping)


def _rounded(coordinates: Any, depth: int, kind: str) -> list[Any]:
    if not isinstance(coordinates, list | tuple):
        raise GeometryError(f"{kind} coordinates are not a list")
    if depth == 0:
        return _position(coordinates)
    parts = [_rounded(part, depth - 1, kind) for part in coordinates]
    if depth == 1 and kind in ("LineString", "MultiLineString") and len(parts) < 2:
        raise GeometryError("a line needs at least two positions")
    ring = depth == 1 and kind in ("Polygon", "MultiPolygon")
    if ring and (len(parts) < 4 or parts[0] != parts[-1]):
        raise GeometryError("a polygon ring must be closed and have at least 4 positions")
    if not parts:
        raise GeometryError(f"an empty {kind}")
    return parts


def _position(position: Any) -> list[float]:
    if len(position) < 2:
        raise GeometryError("a position needs longitude and latitude")
    try:
        lon, lat = float(position[0]), float(position[1])
    except (TypeError, ValueError):
        raise GeometryError(f"position {list(position)!r} is not numeric") from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeometryError("a coordinate is not a finite number")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeometryError(
            f"position [{lon}, {lat}] is outside longitude/latitude range: the source is in "
            "another coordinate system (declare its crs) or has latitude and longitude swapped"
        )
    return [round(lon, DECIMALS) + 0.0, round(lat, DECIMALS) + 0.0]


def invalid_reason(text: str | None) -> str | None:
    """Why a canonical geometry is not OGC-valid (self-intersection, ...), or None if valid."""
    if text is None:
        return None
    import shapely

    shape = shapely.from_geojson(text)
    return None if shapely.is_valid(shape) else shapely.is_valid_reason(shape)


def to_wkt(text: str) -> str:
    """A canonical geometry as WKT (how CSV exports and SoQL literals spell it)."""
    import shapely

    return shapely.to_wkt(shapely.from_geojson(text), trim=True)
