"""Write the demo's Connecticut county boundaries (run once; the output is committed).

Source: the npm package `us-atlas` 3.0.1 (`counties-10m.json`), a redistribution as TopoJSON
of the U.S. Census Bureau's cartographic boundary files, 2017 edition (public domain; the
package's ISC licence covers its packaging), quantized and simplified. The eight Connecticut
counties (FIPS 09001-09015; Connecticut's county-equivalents for Census data until 2022,
when the nine planning regions replaced them) are decoded from the topology, reprojected from
longitude/latitude to NAD83 / Connecticut State Plane, US survey feet (EPSG:2234), as state
GIS files come, and written as GeoJSON with its legacy `crs` member, so the demo exercises
the pipeline's reprojection back to EPSG:4326.

    cd /tmp && npm pack us-atlas@3.0.1 && tar xzf us-atlas-3.0.1.tgz
    .venv/bin/python tools/ct_counties_from_us_atlas.py /tmp/package/counties-10m.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pyproj import Transformer

OUT = (Path(__file__).resolve().parents[1] / "include" / "ctdata" / "data"
       / "ct_counties_census_cb2017_us-atlas-10m_epsg2234.geojson")  # fmt: skip
STATE_PLANE = "EPSG:2234"


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """TopoJSON arcs (quantized, delta-encoded) as absolute longitude/latitude positions."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """A ring from arc indexes (~i is arc i reversed); shared end points are not repeated."""
    out: list[tuple[float, float]] = []
    for index in indexes:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        out.extend(points if not out else points[1:])
    return out


def main(path: str) -> None:
    topology = json.loads(Path(path).read_text())
    arcs = decode_arcs(topology)
    to_plane = Transformer.from_crs("EPSG:4326", STATE_PLANE, always_xy=True)
    features = []
    for geometry in topology["objects"]["counties"]["geometries"]:
        if not geometry["id"].startswith("09"):
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        coordinates = [
            [[[round(v, 2) for v in to_plane.transform(*p)] for p in ring(r, arcs)] for r in poly]
            for poly in polygons
        ]
        features.append({
            "type": "Feature",
            "properties": {"GEOID": geometry["id"], "NAME": geometry["properties"]["name"],
                           "STATEFP": "09", "COUNTYFP": geometry["id"][2:]},
            "geometry": {"type": "MultiPolygon", "coordinates": coordinates},
        })  # fmt: skip
    features.sort(key=lambda f: f["properties"]["GEOID"])
    collection = {
        "type": "FeatureCollection",
        "name": "ct_counties_census_cb2017",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2234"}},
        "features": features,
    }
    OUT.write_text(json.dumps(collection, separators=(",", ":")) + "\n")
    print(f"{len(features)} counties -> {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
