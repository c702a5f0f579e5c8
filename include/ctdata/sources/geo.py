"""Geometries read from sources, reprojected to the portal's EPSG:4326 (longitude, latitude).

Sources hand over features (GeoJSON mappings with properties) or tabular columns (WKT, GeoJSON,
or x/y); this module turns them into a frame whose geometry column holds GeoJSON text in
EPSG:4326, reprojected with PROJ (pyproj) and shapely, batch by batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ctdata.errors import ConfigurationError, SourceError
from ctdata.geometry import GeometryError, parse_geometry

if TYPE_CHECKING:
    import pandas as pd

    from ctdata.specs.sources import GeometryColumns

WGS84 = "EPSG:4326"
_WGS84_NAMES = {"EPSG:4326", "OGC:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84", "CRS84", "WGS84"}


def is_wgs84(crs: str | None) -> bool:
    return crs is None or crs.strip().upper() in _WGS84_NAMES


@lru_cache(maxsize=16)
def _transformer(crs: str) -> Any:
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        source = CRS.from_user_input(crs)
    except CRSError as exc:
        raise ConfigurationError(
            f"crs {crs!r} is not a coordinate reference system PROJ knows ({exc}); use an EPSG "
            "code such as 'EPSG:2234' (Connecticut State Plane, US feet)"
        ) from None
    return Transformer.from_crs(source, WGS84, always_xy=True)


def reproject(geometries: list[dict[str, Any] | None], crs: str | None) -> list[str | None]:
    """GeoJSON mappings in `crs` -> GeoJSON text in EPSG:4326 (None stays None)."""
    import numpy as np
    import shapely

    if is_wgs84(crs):
        return [None if g is None else json.dumps(g, separators=(",", ":")) for g in geometries]
    shapes = np.array(
        [None if g is None else shapely.geometry.shape(g) for g in geometries], dtype=object
    )
    transformer = _transformer(str(crs))

    def to_wgs84(xy: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    moved = shapely.transform(shapes, to_wgs84)
    return [None if s is None else shapely.to_geojson(s) for s in moved]


def features_frame(
    features: Iterable[Mapping[str, Any]],
    *,
    crs: str | None,
    geometry_field: str,
    rename: Mapping[str, str],
    label: str,
) -> pd.DataFrame:
    """One batch of GeoJSON features as a frame: properties as columns, geometry in 4326."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    geometries: list[dict[str, Any] | None] = []
    for n, feature in enumerate(features):
        properties = feature.get("properties") or {}
        rows.append({rename.get(k, k): v for k, v in properties.items()})
        try:
            geometries.append(parse_geometry(feature.get("geometry")))
        except GeometryError as exc:
            raise SourceError(f"{label}: feature {n + 1}: geometry is {exc}") from None
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    if geometry_field in frame.columns:
        raise SourceError(
            f"{label}: a property is already named {geometry_field!r}: set 'geometry_field' "
            "to another name"
        )
    frame[geometry_field] = pd.Series(reproject(geometries, crs), index=frame.index, dtype=object)
    return frame


def add_geometry(frame: pd.DataFrame, spec: GeometryColumns, label: str) -> pd.DataFrame:
    """A tabular batch with its geometry column built from WKT, GeoJSON or x/y columns."""
    import pandas as pd

    missing = [c for c in spec.inputs if c not in frame.columns]
    if missing:
        raise SourceError(
            f"{label}: geometry column(s) {', '.join(missing)} are not in the source "
            f"(available: {', '.join(map(str, frame.columns))})"
        )
    geometries: list[dict[str, Any] | None] = []
    if spec.longitude and spec.latitude:
        xs = pd.to_numeric(frame[spec.longitude], errors="coerce")
        ys = pd.to_numeric(frame[spec.latitude], errors="coerce")
        for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
            empty = pd.isna(x) or pd.isna(y)
            geometries.append(None if empty else {"type": "Point", "coordinates": [x, y]})
    else:
        column = spec.wkt or spec.geojson
        for n, value in enumerate(frame[column].tolist()):
            try:
                geometries.append(None if _empty(value) else parse_geometry(value))
            except GeometryError as exc:
                raise SourceError(f"{label}: row {n + 1}, column {column}: {exc}") from None
    out = frame.drop(columns=spec.inputs) if spec.drop else frame.copy()
    out[spec.output] = pd.Series(reproject(geometries, spec.crs), index=frame.index, dtype=object)
    return out


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value == ""
