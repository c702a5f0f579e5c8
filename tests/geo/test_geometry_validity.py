"""The geometry validity expectation and the canonical form it checks against."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ctdata.geometry import GeometryError, canonical_geojson
from ctdata.validation import ExpectColumnValuesToBeValidGeometry
from ctdata.validation.context import get_batch
from ctdata.validation.geometry import geometry_problem

SQUARE = "POLYGON ((-72 41, -71 41, -71 42, -72 42, -72 41))"
BOWTIE = "POLYGON ((-72 41, -71 42, -71 41, -72 42, -72 41))"  # crosses itself
HOLE_OUTSIDE = ("POLYGON ((-72 41, -71 41, -71 42, -72 42, -72 41), "
                "(-70 41, -69 41, -69 42, -70 42, -70 41))")  # fmt: skip


def check(values: list, geometry_type: str = "multipolygon"):
    expectation = ExpectColumnValuesToBeValidGeometry(column="g", geometry_type=geometry_type)
    frame = pd.DataFrame({"g": pd.Series(values, dtype=object)})
    return get_batch(frame).validate(expectation, result_format={"result_format": "SUMMARY"})


def test_valid_shapes_and_empty_values_pass() -> None:
    multi = json.dumps({"type": "MultiPolygon", "coordinates": [[[[-72, 41], [-71, 41],
                                                                  [-71, 42], [-72, 41]]]]})  # fmt: skip
    result = check([SQUARE, multi, None])
    assert result.success and result.result["unexpected_count"] == 0


def test_self_intersections_holes_outside_and_wrong_kinds_fail() -> None:
    result = check([SQUARE, BOWTIE, HOLE_OUTSIDE, "POINT (-72 41)", "not a shape"])
    assert not result.success
    assert result.result["unexpected_count"] == 4
    assert geometry_problem(BOWTIE, "polygon") == "Self-intersection"
    assert geometry_problem(HOLE_OUTSIDE, "polygon") == "Hole lies outside shell"
    assert geometry_problem("POINT (-72 41)", "polygon").startswith("not a geometry: a Point")


def test_the_type_must_be_a_portal_geometry_type() -> None:
    with pytest.raises(ValueError, match="geometry_type must be one of"):
        ExpectColumnValuesToBeValidGeometry(column="g", geometry_type="circle")


@pytest.mark.parametrize(
    "value",
    [
        "POLYGON ((-72 41, -71 41, -71 42))",  # too few positions, not closed
        {"type": "Polygon", "coordinates": [[[-72, 41], [-71, 41], [-71, 42], [-72, 42]]]},
        {
            "type": "Polygon",
            "coordinates": [
                [[1000000, 650000], [1000100, 650000], [1000100, 650100], [1000000, 650000]]
            ],
        },
    ],  # fmt: skip
)
def test_what_the_portal_would_refuse_is_not_a_geometry(value) -> None:
    with pytest.raises(GeometryError):
        canonical_geojson(value, "polygon")


def test_state_plane_coordinates_are_named_as_such() -> None:
    with pytest.raises(GeometryError, match="declare its crs"):
        canonical_geojson("POINT (1000000 650000)", "point")
