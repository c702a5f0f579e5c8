"""Geometry validity: every geometry of a geospatial column is well-formed GeoJSON (or WKT) of
the column's kind and OGC-valid (no self-intersecting ring, no ring crossing another, holes
inside their shell), as shapely/GEOS judges it.

The portal stores invalid shapes, but maps misdraw them and spatial queries (`intersects`,
`within_box`) answer wrongly, so a suite rejects them before publishing. A column-map
expectation: GX reports how many rows failed (counts only: results never keep a value).
`geometry_problem` gives the reason in GEOS's words ("Self-intersection").
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
from great_expectations.compatibility import pydantic
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from ctdata.geometry import GEOMETRY_TYPES, GeometryError, canonical_geojson, invalid_reason


def geometry_problem(value: Any, data_type: str) -> str | None:
    """Why a value is not a valid geometry of `data_type` (None when it is, or is empty)."""
    try:
        text = canonical_geojson(value, data_type)
    except GeometryError as exc:
        return f"not a geometry: {exc}"
    reason = invalid_reason(text)
    return None if reason is None else reason.split("[")[0]


class ColumnValuesValidGeometry(ColumnMapMetricProvider):
    """True where a value is empty or a valid geometry of the column's type."""

    condition_metric_name = "column_values.valid_geometry"
    condition_value_keys = ("geometry_type",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, geometry_type: str = "multipolygon", **kwargs: Any):
        return column.map(lambda v: geometry_problem(v, geometry_type) is None).astype(bool)


class ExpectColumnValuesToBeValidGeometry(ColumnMapExpectation):
    """Expect every value of the column to be an OGC-valid geometry of `geometry_type`
    (point, multipoint, line, multiline, polygon, multipolygon) in longitude/latitude.
    Empty values pass (use expect_column_values_to_not_be_null to forbid them)."""

    geometry_type: str = "multipolygon"

    map_metric: ClassVar[str] = "column_values.valid_geometry"
    success_keys: ClassVar[tuple[str, ...]] = ("geometry_type", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column", "geometry_type")

    library_metadata: ClassVar[dict[str, Any]] = {
        "maturity": "production",
        "tags": ["ctdata", "geospatial"],
        "contributors": ["ctdata"],
    }

    @pydantic.validator("geometry_type")
    def _known_type(cls, value: str) -> str:
        if value not in GEOMETRY_TYPES:
            raise ValueError(f"geometry_type must be one of {', '.join(GEOMETRY_TYPES)}")
        return value
