"""Box witnesses: every box found is a second integer table consistent with what is published,
and the engine stays safe when huge components get no LP at all (tau-Argus-style boxes only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ctdata.disclosure.lp as lp
from ctdata.disclosure import SuppressionSpec, audit_published, suppress
from ctdata.disclosure.structure import build_structure
from ctdata.disclosure.witness import WitnessFinder
from tests.disclosure.support import build_table, hierarchy_for


@st.composite
def cases(draw: st.DrawFn) -> tuple[pd.DataFrame, SuppressionSpec, np.ndarray]:
    ndim = draw(st.integers(1, 4))
    shape = [draw(st.integers(2, {1: 6, 2: 5, 3: 4, 4: 3}[ndim])) for _ in range(ndim)]
    size = int(np.prod(shape))
    leaves = np.array(draw(st.lists(st.integers(0, 9), min_size=size, max_size=size)))
    names = [f"d{k}" for k in range(ndim)]
    groups: dict[str, dict[str, str]] = {}
    if shape[0] >= 3 and draw(st.booleans()):
        groups[names[0]] = {f"d0{i}": f"G{int(i >= 2)}" for i in range(shape[0])}
    table = build_table(leaves.reshape(shape), names, groups)
    spec = SuppressionSpec(
        dimensions=names, counts=["n"], hierarchy=hierarchy_for(names, groups) or None
    )
    hidden = np.array(draw(st.lists(st.booleans(), min_size=len(table), max_size=len(table))))
    return table, spec, hidden & (table["n"].to_numpy() > 0)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_every_box_is_another_table_with_the_same_published_cells(case) -> None:  # noqa: ANN001
    table, spec, hidden = case
    structure = build_structure(table, spec)
    x = table["n"].to_numpy(dtype=float)
    finder = WitnessFinder(structure, x, hidden)
    for cell in np.flatnonzero(hidden):
        box = finder.find(int(cell))
        if box is None:
            continue
        assert cell in box.cells and hidden[box.cells].all()
        move = np.zeros(x.size)
        move[box.cells] = box.sign
        # the published cells and every relation stay as they are...
        assert np.allclose(structure.relations @ move, 0)
        # ...and one step (up or down) keeps every cell at least 1, with integers
        step = 1.0 if box.up >= 1 else -1.0
        other = x + step * move
        assert (other[hidden] >= 1).all() and other[int(cell)] != x[int(cell)]


def test_engine_is_safe_with_boxes_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """No component gets an LP in the engine: only witnesses and completed boxes."""
    monkeypatch.setattr(lp, "LP_MAX_CELLS", 0)
    rng = np.random.default_rng(3)
    leaves = rng.poisson(rng.choice([2.0, 6.0, 30.0], size=(6, 4, 3)))
    table = build_table(leaves, ["a", "b", "c"])
    spec = SuppressionSpec(dimensions=["a", "b", "c"], counts=["n"])
    result = suppress(table, spec)
    assert result.audit.passed and result.primary > 0
    report = audit_published(result.table, spec, table, exact_intervals=True)
    assert report.passed, report.summary()
    assert all(c.upper - c.lower >= 1 - 1e-6 for c in report.cells)
