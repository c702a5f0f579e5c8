"""The fail-closed disclosure audit expectation (LP audit from ctdata.disclosure)."""

from __future__ import annotations

import pandas as pd

from ctdata.validation import ExpectTableDisclosureAuditToPass
from ctdata.validation.context import get_batch
from ctdata.validation.disclosure_audit import run_audit

SPEC_2D = {"dimensions": ["a", "b"], "counts": ["n"], "threshold": 5, "total_label": "Total"}


def table_2x2(hidden: set[tuple[str, str]]) -> pd.DataFrame:
    """x/y by p/q with margins; interior x,p=3 x,q=10 y,p=12 y,q=20."""
    inner = {("x", "p"): 3, ("x", "q"): 10, ("y", "p"): 12, ("y", "q"): 20}
    cells = dict(inner)
    for a in ("x", "y"):
        cells[(a, "Total")] = inner[(a, "p")] + inner[(a, "q")]
    for b in ("p", "q"):
        cells[("Total", b)] = inner[("x", b)] + inner[("y", b)]
    cells[("Total", "Total")] = sum(inner.values())
    rows = [{"a": a, "b": b, "n": None if (a, b) in hidden else v} for (a, b), v in cells.items()]
    frame = pd.DataFrame(rows)
    frame["n"] = frame["n"].astype("Int64")
    return frame


RECTANGLE = {("x", "p"), ("x", "q"), ("y", "p"), ("y", "q")}


def validate(frame: pd.DataFrame, spec: dict | None):
    expectation = ExpectTableDisclosureAuditToPass(suppression_spec=spec)
    return get_batch(frame).validate(expectation)


def test_rectangle_of_suppressed_cells_passes() -> None:
    result = validate(table_2x2(RECTANGLE), SPEC_2D)
    assert result.success, result.result
    assert result.result["observed_value"] == {"cells_audited": 4, "failures": 0}
    assert result.result["details"]["failing_by_status"] == {}


def test_lone_suppressed_cell_is_recoverable_and_fails() -> None:
    result = validate(table_2x2({("x", "p")}), SPEC_2D)
    assert not result.success
    assert result.result["observed_value"] == {"cells_audited": 1, "failures": 1}
    assert result.result["details"]["failing_by_status"] == {"exact": 1}
    summary = result.result["details"]["summary"]
    assert "audit FAILED: 1 suppressed cells, 1 failing (1 exact)" in summary
    assert "a=x" not in summary and "[3" not in summary  # not which cell, nor its value


def test_published_small_count_fails_the_audit_too() -> None:
    result = validate(table_2x2(set()), SPEC_2D)
    assert not result.success
    assert result.result["details"]["failing_by_status"] == {"published_small": 1}


def test_missing_spec_fails_closed() -> None:
    result = validate(table_2x2(RECTANGLE), None)
    assert not result.success
    assert "no suppression_spec" in result.result["details"]["summary"]


def test_bad_spec_or_bad_margins_fail_closed() -> None:
    bad_spec = validate(table_2x2(RECTANGLE), {**SPEC_2D, "dimensions": ["a", "nope"]})
    assert not bad_spec.success
    assert "nope" in bad_spec.result["details"]["error"]
    broken = table_2x2(RECTANGLE)
    broken.loc[(broken.a == "Total") & (broken.b == "Total"), "n"] = 99
    verdict = run_audit(broken, SPEC_2D)
    assert verdict["passed"] is False
    assert "do not add up" in verdict["error"]


def test_three_way_cube_pattern(by_town_frame, by_town_unsafe_frame, by_town_spec) -> None:
    safe = run_audit(by_town_frame, by_town_spec)
    assert safe["passed"], safe["summary"]
    assert safe["cells_audited"] == 8
    unsafe = run_audit(by_town_unsafe_frame, by_town_spec)
    assert not unsafe["passed"]
    assert unsafe["failing_by_status"] == {"exact": 2}
    assert "Andover" not in str(unsafe)
