"""Geospatial files: GeoJSON FeatureCollections and zipped ESRI shapefiles, batch by batch."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctdata.errors import SourceError, SourceUnavailableError
from ctdata.sources.geo import features_frame

if TYPE_CHECKING:
    import pandas as pd

    from ctdata.specs.sources import GeoJsonSource, ShapefileSource

BATCH_FEATURES = 5_000


def read_geojson(
    source: GeoJsonSource, path: Path, label: str, batch: int = BATCH_FEATURES
) -> Iterator[pd.DataFrame]:
    _exists(path, label)
    try:
        collection = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SourceError(f"{label}: {path} is not GeoJSON: {exc}") from None
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise SourceError(f"{label}: {path} is not a GeoJSON FeatureCollection")
    crs = source.crs or _legacy_crs(collection)
    features = iter(collection.get("features") or [])
    yield from _batches(features, crs, source.geometry_field, source.rename, label, batch)


def _legacy_crs(collection: dict[str, Any]) -> str | None:
    """The 2008 GeoJSON `crs` member ({"type": "name", "properties": {"name": ...}}), which
    GIS tools still write for projected files; RFC 7946 files have none (EPSG:4326)."""
    crs = collection.get("crs") or {}
    name = (crs.get("properties") or {}).get("name") if isinstance(crs, dict) else None
    if isinstance(name, str) and name.upper().startswith("URN:OGC:DEF:CRS:EPSG::"):
        return "EPSG:" + name.rsplit(":", 1)[-1]
    return name if isinstance(name, str) else None


def read_shapefile(
    source: ShapefileSource, path: Path, label: str, batch: int = BATCH_FEATURES
) -> Iterator[pd.DataFrame]:
    import shapefile

    _exists(path, label)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise SourceError(
            f"{label}: {path} is not a zip archive (zip the .shp, .shx, .dbf, .prj)"
        ) from None
    with archive:
        stem = _layer(archive, source.layer, label, path)
        parts = {
            ext: _member(archive, stem, ext) for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")
        }
        if parts[".shp"] is None or parts[".dbf"] is None:
            raise SourceError(f"{label}: {path}: layer {stem} lacks its .shp or .dbf file")
        crs = source.crs or (parts[".prj"].decode("utf-8", "replace") if parts[".prj"] else None)
        if crs is None:
            raise SourceError(
                f"{label}: {path}: layer {stem} has no .prj file: declare the source's 'crs'"
            )
        encoding = parts[".cpg"].decode().strip() if parts[".cpg"] else source.encoding
        reader = shapefile.Reader(
            shp=io.BytesIO(parts[".shp"]),
            shx=io.BytesIO(parts[".shx"]) if parts[".shx"] else None,
            dbf=io.BytesIO(parts[".dbf"]),
            encoding=_python_encoding(encoding),
        )
        with reader:
            features = (record.__geo_interface__ for record in reader.iterShapeRecords())
            yield from _batches(features, crs, source.geometry_field, source.rename, label, batch)


def _batches(
    features: Iterator[dict[str, Any]],
    crs: str | None,
    geometry_field: str,
    rename: dict[str, str],
    label: str,
    batch: int,
) -> Iterator[pd.DataFrame]:
    while chunk := list(islice(features, batch)):
        yield features_frame(
            chunk, crs=crs, geometry_field=geometry_field, rename=rename, label=label
        )


def _layer(archive: zipfile.ZipFile, wanted: str | None, label: str, path: Path) -> str:
    layers = sorted(n[:-4] for n in archive.namelist() if n.lower().endswith(".shp"))
    if wanted is not None:
        matches = [n for n in layers if Path(n).name in (wanted, f"{wanted}.shp")]
        if not matches:
            raise SourceError(f"{label}: {path} has no layer {wanted!r} (it has {layers})")
        return matches[0]
    if len(layers) != 1:
        raise SourceError(
            f"{label}: {path} holds {len(layers)} shapefile layers ({layers}): name one in 'layer'"
        )
    return layers[0]


def _member(archive: zipfile.ZipFile, stem: str, ext: str) -> bytes | None:
    for name in archive.namelist():
        if name[: len(stem)] == stem and name[len(stem) :].lower() == ext:
            return archive.read(name)
    return None


def _python_encoding(name: str) -> str:
    """A .cpg code page ("UTF-8", "1252", "ANSI 1252") as Python names it."""
    digits = "".join(ch for ch in name if ch.isdigit())
    if digits and not name.lower().startswith("utf"):
        return f"cp{digits}"
    return name


def _exists(path: Path, label: str) -> None:
    if not path.exists():
        raise SourceUnavailableError(
            f"{label}: file {path} does not exist (yet); check 'source.path' in the spec or "
            "whether the file drop has arrived"
        )
