"""Properties over random 1- to 4-dimensional tables with margins and hierarchies."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdata.disclosure import SuppressionSpec, audit_published, suppress
from tests.disclosure.support import build_table, hierarchy_for

MAX_LEAVES = {1: 6, 2: 5, 3: 4, 4: 3}


@st.composite
def tables(draw: st.DrawFn) -> tuple[pd.DataFrame, SuppressionSpec]:
    ndim = draw(st.integers(1, 4))
    shape = [draw(st.integers(2, MAX_LEAVES[ndim])) for _ in range(ndim)]
    small_heavy = st.one_of(st.integers(0, 6), st.integers(0, 40))
    flat = draw(st.lists(small_heavy, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    leaves = np.array(flat, dtype=np.int64).reshape(shape)
    names = [f"d{k}" for k in range(ndim)]
    groups: dict[str, dict[str, str]] = {}
    if shape[0] >= 3 and draw(st.booleans()):
        cut = draw(st.integers(1, shape[0] - 1))
        groups[names[0]] = {f"d0{i}": f"G{int(i >= cut)}" for i in range(shape[0])}
    spec = SuppressionSpec(
        dimensions=names,
        counts=["n"],
        threshold=draw(st.sampled_from([3, 5])),
        protection=draw(st.sampled_from(["exact", "interval"])),
        hierarchy=hierarchy_for(names, groups) or None,
        seed=draw(st.integers(0, 3)),
    )
    return build_table(leaves, names, groups), spec


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_suppressed_tables_pass_an_independent_audit(case) -> None:  # noqa: ANN001
    table, spec = case
    result = suppress(table, spec)
    out = result.table
    hidden = out["n"].isna().to_numpy()
    # no published count from 1 to the threshold; zeros never suppressed
    shown = out.loc[~hidden, "n"].astype(int)
    assert not shown.between(1, spec.threshold).any()
    assert (table.loc[hidden, "n"] > 0).all()
    # nothing published differs from the truth (so it is consistent with the margins)
    assert (shown == table.loc[~hidden, "n"]).all()
    assert result.primary == int(table["n"].between(1, spec.threshold).sum())
    assert result.primary + result.complementary == int(hidden.sum())
    # an audit from the published table alone, with exact LP intervals, passes
    report = audit_published(out, spec, table, exact_intervals=True)
    assert report.passed, report.summary()
    for cell in report.cells:
        assert cell.proven
        assert cell.lower - 1e-6 <= cell.true_value <= cell.upper + 1e-6
        assert cell.upper - cell.lower >= 1 - 1e-6
        if spec.protection == "interval":
            assert cell.upper > spec.threshold
    # deterministic for a seed
    pd.testing.assert_frame_equal(out, suppress(table, spec).table)
