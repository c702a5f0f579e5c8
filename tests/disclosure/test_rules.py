"""The state's suppression rules on small hand-made tables, and the row/column rule's failure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from ctdata.disclosure import SuppressionSpec, audit_published, suppress, validate_table
from ctdata.disclosure.structure import build_structure
from ctdata.errors import DisclosureError
from tests.disclosure.support import TOTAL, build_table

SPEC = SuppressionSpec(dimensions=["r", "c"], counts=["n"])

# Two closed groups of small cells (rows 0-1 x cols 0-1 and rows 2-3 x cols 2-3) and one small
# cell at (r0, c2) bridging them: every row and column holds 0 or >= 2 suppressed cells, so the
# row/column rule adds nothing, yet the bridge equals (row 0 total) - (row 0's other published
# cells) - (the group's sum, known from its columns minus row 1).
BRIDGE = np.array(
    [
        [3, 4, 2, 40],
        [5, 2, 30, 50],
        [60, 70, 4, 3],
        [80, 90, 5, 1],
    ]
)


def cell(table: pd.DataFrame, r: str, c: str) -> object:
    return table.loc[(table.r == r) & (table.c == c), "n"].iloc[0]


def published(table: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    out = table.copy()
    out["n"] = pd.array(table["n"], dtype="Int64")
    out.loc[mask, "n"] = pd.NA
    return out


def test_primary_suppresses_small_counts_and_totals_but_never_zero() -> None:
    table = build_table(np.array([[0, 3], [0, 40]]), ["r", "c"])
    result = suppress(table, SPEC)
    out = result.table
    assert pd.isna(cell(out, "r0", "c1"))  # 3 is small
    assert pd.isna(cell(out, "r0", TOTAL))  # the row total is 3 too: totals included
    assert cell(out, "r0", "c0") == 0 and cell(out, "r1", "c0") == 0  # zeros stay
    assert not out.loc[out.n.isna() == False, "n"].between(1, 5).any()  # noqa: E712
    assert result.audit.passed


def test_complement_prefers_small_interior_cells_over_totals() -> None:
    table = build_table(np.array([[2, 9, 50], [30, 8, 60], [40, 70, 80]]), ["r", "c"])
    out = suppress(table, SPEC).table
    hidden = {(a, b) for a, b, v in zip(out.r, out.c, out.n, strict=True) if pd.isna(v)}
    # the cheapest safe pattern is the rectangle 2, 9 / 30, 8: no total is touched (rule 3)
    assert hidden == {("r0", "c0"), ("r0", "c1"), ("r1", "c0"), ("r1", "c1")}
    assert out["n_suppressed"].sum() == 4


def test_row_column_rule_leaves_the_bridge_exactly_recoverable() -> None:
    table = build_table(BRIDGE, ["r", "c"])
    structure = build_structure(table, SPEC)
    values = table["n"].to_numpy(dtype=float)
    mask = (values >= 1) & (values <= 5)  # primary only: the row/column rule adds nothing here
    counts = np.asarray(abs(structure.relations) @ mask.astype(float)).ravel()
    assert set(counts) <= {0, 2, 3, 4}  # no line holds a lone suppressed cell
    report = audit_published(published(table, mask), SPEC, exact_intervals=True)
    assert not report.passed
    exact = {(c.labels["r"], c.labels["c"]) for c in report.failures if c.status == "exact"}
    assert ("r0", "c2") in exact
    bridge = next(c for c in report.cells if c.labels == {"r": "r0", "c": "c2"})
    assert bridge.lower == pytest.approx(2) and bridge.upper == pytest.approx(2)


def test_engine_fixes_the_bridge() -> None:
    table = build_table(BRIDGE, ["r", "c"])
    result = suppress(table, SPEC)
    assert result.complementary >= 1
    report = audit_published(result.table, SPEC, table, exact_intervals=True)
    assert report.passed, report.summary()
    bridge = next(c for c in report.cells if c.labels == {"r": "r0", "c": "c2"})
    assert bridge.upper - bridge.lower >= 1 and bridge.true_value == 2


def test_interval_protection_lifts_the_upper_bound_above_threshold() -> None:
    # 2 and 3 in one row with a large neighbour: hiding just them leaves each at most 4
    table = build_table(np.array([[2, 3, 90], [40, 50, 60]]), ["r", "c"])
    exact_spec = SPEC.model_copy(update={"protection": "exact"})
    interval_spec = SPEC.model_copy(update={"protection": "interval"})
    plain = suppress(table, exact_spec)
    strict = suppress(table, interval_spec)
    report = audit_published(strict.table, interval_spec, exact_intervals=True)
    assert report.passed
    assert all(c.upper > 5 for c in report.cells)
    narrow = audit_published(plain.table, interval_spec, exact_intervals=True)
    assert {c.status for c in narrow.failures} == {"narrow"}  # exact pattern: each at most 4
    assert strict.complementary > plain.complementary


def test_lp_intervals_match_an_independent_linprog() -> None:
    table = build_table(np.array([[3, 4, 20], [5, 9, 30], [25, 1, 2]]), ["r", "c"])
    result = suppress(table, SPEC)
    report = audit_published(result.table, SPEC, exact_intervals=True)
    structure = build_structure(table, SPEC)
    a = structure.relations.toarray()
    mask = result.table["n"].isna().to_numpy()
    x = table["n"].to_numpy(dtype=float)
    bounds = [(1, None) if m else (v, v) for m, v in zip(mask, x, strict=True)]
    for c in report.cells:
        obj = np.zeros(len(x))
        obj[c.row] = 1
        lo = linprog(obj, A_eq=a, b_eq=np.zeros(len(a)), bounds=bounds).fun
        hi = -linprog(-obj, A_eq=a, b_eq=np.zeros(len(a)), bounds=bounds).fun
        assert c.lower == pytest.approx(lo, abs=1e-6) and c.upper == pytest.approx(hi, abs=1e-6)
        assert c.proven


def test_rates_follow_the_three_rules() -> None:
    table = build_table(np.array([[3, 30, 12], [40, 50, 60]]), ["r", "c"])
    table["pop"] = [100, 10, 500, 610, 400, 500, 600, 1500, 500, 510, 1100, 2110]
    spec = SuppressionSpec(
        dimensions=["r", "c"],
        counts=["n"],
        rates=[{"column": "rate", "numerator": "n", "denominator": "pop", "per": 1000}],
    )
    out = suppress(table, spec).table
    rate = dict(zip(zip(out.r, out.c, strict=True), out.rate, strict=True))
    assert pd.isna(rate[("r0", "c0")])  # count suppressed (3)
    assert pd.isna(rate[("r0", "c1")])  # denominator 10 < 20
    assert rate[("r1", "c1")] == pytest.approx(50 / 500 * 1000)
    assert list(out.columns[:4]) == ["r", "c", "n", "pop"]
    assert out["rate_suppressed"].dtype == bool
    assert (out["rate_suppressed"] == out["rate"].isna()).all()


def test_output_keeps_rows_and_columns_in_order() -> None:
    table = build_table(BRIDGE, ["r", "c"]).sample(frac=1, random_state=3).reset_index(drop=True)
    table.insert(0, "note", "x")
    out = suppress(table, SPEC).table
    assert list(out.columns) == ["note", "r", "c", "n", "n_suppressed"]
    assert list(out.r) == list(table.r) and list(out.c) == list(table.c)
    assert str(out["n"].dtype) == "Int64"
    assert (out["n_suppressed"] == out["n"].isna()).all()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.assign(n=t.n.where(~((t.r == "r0") & (t.c == TOTAL)), 99)), "do not add up"),
        (lambda t: t.assign(n=t.n.where(~((t.r == "r1") & (t.c == "c1")), -2)), "negative"),
        (lambda t: t.assign(n=t.n.astype(float).where(t.r != "r2", 2.5)), "non-integers"),
        (lambda t: t.drop(columns=["c"]), "lacks"),
        (lambda t: t.iloc[1:], "lacks 1 cells"),
    ],
)
def test_bad_tables_are_refused_naming_the_rows(mutate, message) -> None:  # noqa: ANN001
    table = mutate(build_table(BRIDGE, ["r", "c"]))
    with pytest.raises(DisclosureError, match=message) as err:
        validate_table(table, SPEC)
    if message in {"do not add up", "negative", "non-integers"}:
        assert "line " in str(err.value)


def test_deterministic_for_a_seed() -> None:
    rng = np.random.default_rng(7)
    table = build_table(rng.integers(0, 12, size=(6, 5)), ["r", "c"])
    first = suppress(table, SPEC).table
    again = suppress(table, SPEC).table
    pd.testing.assert_frame_equal(first, again)


def test_hidden_cells_of_one_under_a_published_total_are_not_left_pinned() -> None:
    # six cells of 1 under a total of 6: hiding the six alone pins each to exactly 1
    table = build_table(np.array([[1, 1, 1, 1, 1, 1], [9, 8, 7, 30, 40, 50]]), ["r", "c"])
    pinned = published(table, table["n"].between(1, 5).to_numpy())
    report = audit_published(pinned, SPEC, exact_intervals=True)
    assert {c.status for c in report.failures} == {"exact"}
    result = suppress(table, SPEC)
    assert audit_published(result.table, SPEC, table, exact_intervals=True).passed
