"""Feasible intervals of suppressed cells by linear programming (HiGHS through scipy).

Unknowns are the suppressed cells (each at least 1: zeros are never suppressed, so an attacker
knows a suppressed cell is not zero); published cells move to the right-hand side. The system
splits into independent components, each solved on its own. In `fast` mode a cell is cleared
as soon as two feasible points show it can take two integer values (the true table is one such
point), so most cells need no LP of their own; the remaining ones get min and max LPs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from ctdata.disclosure.structure import TableStructure
from ctdata.disclosure.witness import WitnessFinder

try:  # scipy's own HiGHS binding: same solver as linprog(method="highs"), reusable model
    from scipy.optimize._highspy import _core as _highs
except ImportError:  # pragma: no cover - other scipy builds
    _highs = None

TOL = 1e-6
SWEEPS = 4  # rounds of joint up/down pushes before cell-by-cell LPs
LP_MAX_CELLS = 4000  # engine: larger components rely on box witnesses alone


@dataclass
class Intervals:
    """Per suppressed cell (in the order of `cells`): bounds and whether they are LP optima."""

    cells: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    proven: np.ndarray  # True: lower/upper are LP optima; False: witnessed inner bounds
    consistent: bool
    # cell -> (relation ids, dual values) of its own min/max LPs: which relations pin it
    duals: dict[int, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)


def integer_width(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """How many more integers than one the interval holds (< 1 means exactly recoverable)."""
    return np.floor(upper + TOL) - np.ceil(lower - TOL)


def is_safe(lower: np.ndarray, upper: np.ndarray, threshold: int, interval: bool) -> np.ndarray:
    ok = integer_width(lower, upper) >= 1
    if interval:
        ok &= np.floor(upper + TOL) > threshold
    return ok


class ComponentLP:
    """One independent block of the audit LP, re-solved with changing objectives.

    Uses the HiGHS binding that ships inside scipy so each new objective warm-starts from the
    last basis (one `linprog` call per objective rebuilds everything); falls back to `linprog`.
    """

    def __init__(
        self, a: sp.csr_matrix, b: np.ndarray, lower: np.ndarray, upper: np.ndarray
    ) -> None:
        self.a, self.b, self.lower, self.upper = a, b, lower, upper
        self.cap = float(upper.max(initial=1.0))
        self.dual = np.zeros(a.shape[0])
        self.highs = _build_highs(a.tocsc(), b, lower, upper) if _highs is not None else None

    def solve(self, c: np.ndarray) -> np.ndarray | None:
        """A minimiser of c.x (None when infeasible); row duals are kept in `dual`."""
        if self.highs is None:
            bounds = list(zip(self.lower, self.upper, strict=True))
            res = linprog(c, A_eq=self.a, b_eq=self.b, bounds=bounds, method="highs")
            if res.status != 0:
                return None
            self.dual = np.asarray(res.eqlin.marginals, dtype=float)
            return res.x
        n = c.size
        self.highs.changeColsCost(n, np.arange(n, dtype=np.int32), c.astype(np.float64))
        self.highs.run()
        if self.highs.getModelStatus() != _highs.HighsModelStatus.kOptimal:
            return None
        solution = self.highs.getSolution()
        self.dual = np.asarray(solution.row_dual, dtype=float)
        return np.asarray(solution.col_value, dtype=float)


class PushLP:
    """The component's LP with one extra column per target, y_i <= c_i.x and y_i <= level_i:
    maximising sum(w_i y_i) lifts as many targets as it can up to their levels at once.
    Built once per component and re-solved with other weights and levels (warm start)."""

    def __init__(self, lp: ComponentLP, c: sp.csr_matrix) -> None:
        m, n = c.shape
        self.n, self.m = n, m
        eq = sp.hstack([lp.a, sp.csr_matrix((lp.a.shape[0], m))])
        ub = sp.hstack([-c, sp.identity(m, format="csr")])
        a = sp.vstack([eq, ub]).tocsc()
        row_lower = np.concatenate([lp.b, np.full(m, -np.inf)])
        row_upper = np.concatenate([lp.b, np.zeros(m)])
        lower = np.concatenate([lp.lower, np.full(m, -lp.cap)])
        upper = np.concatenate([lp.upper, np.full(m, lp.cap)])
        self.args = (a, row_lower, row_upper, lower, upper)
        self.highs = (
            _build_highs(a, row_lower, lower, upper, row_upper) if _highs is not None else None
        )

    def solve(self, weight: np.ndarray, level: np.ndarray) -> np.ndarray | None:
        """x of a maximiser of sum(weight_i min(c_i.x, level_i)) (weight 0: ignored)."""
        cols = np.arange(self.n, self.n + self.m, dtype=np.int32)
        if self.highs is None:
            a, row_lower, row_upper, lower, upper = self.args
            upper = upper.copy()
            upper[self.n :] = level
            cost = np.concatenate([np.zeros(self.n), -weight])
            eq = row_lower == row_upper
            res = linprog(cost, A_ub=a[~eq], b_ub=row_upper[~eq], A_eq=a[eq], b_eq=row_lower[eq],
                          bounds=np.column_stack([lower, upper]), method="highs")  # fmt: skip
            return res.x[: self.n] if res.status == 0 else None
        self.highs.changeColsCost(self.m, cols, (-weight).astype(np.float64))
        lower = np.full(self.m, -self.args[4][-1] if self.m else 0.0)
        self.highs.changeColsBounds(self.m, cols, lower, level.astype(np.float64))
        self.highs.run()
        if self.highs.getModelStatus() != _highs.HighsModelStatus.kOptimal:
            return None
        return np.asarray(self.highs.getSolution().col_value, dtype=float)[: self.n]


def _build_highs(
    a: sp.csc_matrix,
    b: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    b_upper: np.ndarray | None = None,
) -> Any:
    """A HiGHS model of b <= a.x <= b_upper (b_upper defaults to b), lower <= x <= upper."""
    lp = _highs.HighsLp()
    m, n = a.shape
    lp.num_col_, lp.num_row_ = n, m
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
    lp.a_matrix_.format_ = _highs.MatrixFormat.kColwise
    lp.col_cost_ = np.zeros(n)
    lp.col_lower_ = lower.astype(np.float64)
    lp.col_upper_ = upper.astype(np.float64)
    lp.row_lower_ = b.astype(np.float64)
    lp.row_upper_ = (b if b_upper is None else b_upper).astype(np.float64)
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    highs = _highs._Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.passModel(lp)
    return highs


def feasible_intervals(
    relations: sp.csr_matrix,
    values: np.ndarray,
    suppressed: np.ndarray,
    *,
    threshold: int,
    interval: bool,
    fast: bool,
    truth_known: bool,
    structure: TableStructure | None = None,
    previous: Intervals | None = None,
    local_only: bool = False,
) -> Intervals:
    """LP intervals for every suppressed cell; `values` may be NaN at suppressed cells.

    With the truth known, `fast` and the table's `structure`, cells are first proven safe by
    box witnesses (two integer solutions, see witness.py); the cells left get the LP of their component, except (`local_only`, the engine's
    own loop) in components over LP_MAX_CELLS cells, where they are reported as failing (fail
    closed: the engine then completes a box witness for them).
    `previous` holds intervals of an earlier audit of a subset of these suppressed cells: more
    suppression only widens intervals, so cells safe then are safe now.
    """
    if fast and truth_known and structure is not None:
        return _witnessed(
            relations, values, suppressed, structure, threshold, interval, previous, local_only
        )
    return _full(relations, values, suppressed, threshold, interval, fast, truth_known)


def _full(
    relations: sp.csr_matrix,
    values: np.ndarray,
    suppressed: np.ndarray,
    threshold: int,
    interval: bool,
    fast: bool,
    truth_known: bool,
    want: np.ndarray | None = None,
    max_cells: int | None = None,
) -> Intervals:
    """Component by component LPs; with `want` (table cells), only the components and cells
    it names are solved, and with `max_cells` only components up to that size (the others
    keep lower = upper = NaN)."""
    cells = np.flatnonzero(suppressed)
    lower = np.ones(cells.size)
    upper = np.ones(cells.size)
    proven = np.zeros(cells.size, dtype=bool)
    if cells.size == 0:
        return Intervals(cells, lower, upper, proven, True)
    published = np.where(suppressed, 0.0, np.nan_to_num(values))
    csc = relations.tocsc()
    a_s = csc[:, cells].tocsr()
    b = -(relations @ published)
    live = np.flatnonzero(np.diff(a_s.indptr) > 0)
    a_s, b = a_s[live], b[live]
    cap = float(10 * max(published.sum(), 1.0) + 10 * cells.size + 1000)
    pattern = (abs(a_s).T @ abs(a_s)).tocsr()
    n_comp, label = connected_components(pattern, directed=False)
    order = np.argsort(label, kind="stable")
    bounds = np.searchsorted(label[order], np.arange(n_comp + 1))
    consistent = True
    duals: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    a_csc = a_s.tocsc()
    wanted = None if want is None else want[cells]
    if wanted is not None:
        lower[~wanted] = upper[~wanted] = np.nan
    for k in range(n_comp):
        idx = order[bounds[k] : bounds[k + 1]]
        skip = max_cells is not None and idx.size > max_cells
        if skip or (wanted is not None and not wanted[idx].any()):
            lower[idx] = upper[idx] = np.nan
            continue
        sub = a_csc[:, idx]
        rows = np.unique(sub.indices)
        n_idx = idx.size
        comp = ComponentLP(sub.tocsr()[rows], b[rows], np.ones(n_idx), np.full(n_idx, cap))
        truth = values[cells[idx]] if truth_known else None
        w = None if wanted is None else wanted[idx]
        lo, hi, pr, ok, comp_duals = _solve_component(comp, truth, threshold, interval, fast, w)
        lower[idx], upper[idx], proven[idx] = lo, hi, pr
        consistent &= ok
        for i, ys in comp_duals.items():
            duals[int(cells[idx[i]])] = [(live[rows][j], y) for j, y in ys]
    upper[upper >= cap - 0.5] = math.inf
    return Intervals(cells, lower, upper, proven, consistent, duals)


def _witnessed(
    relations: sp.csr_matrix,
    values: np.ndarray,
    suppressed: np.ndarray,
    structure: TableStructure,
    threshold: int,
    interval: bool,
    previous: Intervals | None,
    local_only: bool,
) -> Intervals:
    cells = np.flatnonzero(suppressed)
    lo = values.astype(float).copy()
    hi = lo.copy()
    safe = np.zeros(values.size, dtype=bool)
    proven = np.zeros(values.size, dtype=bool)
    if previous is not None and previous.cells.size:
        was = is_safe(previous.lower, previous.upper, threshold, interval)
        sel = was & suppressed[previous.cells]
        keep = previous.cells[sel]
        lo[keep], hi[keep] = previous.lower[sel], previous.upper[sel]
        safe[keep] = True
    finder = WitnessFinder(structure, values, suppressed)
    for c in cells:
        if safe[c]:
            continue
        box = finder.find(int(c))
        if box is None:
            continue
        x = values[box.cells]
        grow = np.where(box.sign > 0, box.up, box.down)
        shrink = np.where(box.sign > 0, box.down, box.up)
        hi[box.cells] = np.maximum(hi[box.cells], x + grow)
        lo[box.cells] = np.minimum(lo[box.cells], x - shrink)
        safe[box.cells] = is_safe(lo[box.cells], hi[box.cells], threshold, interval)
    consistent = True
    duals: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    open_ = suppressed & ~safe
    if open_.any():
        limit = LP_MAX_CELLS if local_only else None
        res = _full(relations, values, suppressed, threshold, interval, True, True, open_, limit)
        blind = res.cells[open_[res.cells] & np.isnan(res.lower)]
        lo[blind] = hi[blind] = np.nan  # no proof either way: the engine completes a box
        got = open_[res.cells] & ~np.isnan(res.lower)
        at = res.cells[got]
        lo[at] = np.minimum(lo[at], res.lower[got])
        hi[at] = np.maximum(hi[at], res.upper[got])
        proven[at] = res.proven[got]
        consistent &= res.consistent
        duals = {c: d for c, d in res.duals.items() if open_[c]}
    return Intervals(cells, lo[cells], hi[cells], proven[cells], consistent, duals)


def _solve_component(
    comp: ComponentLP,
    truth: np.ndarray | None,
    threshold: int,
    interval: bool,
    fast: bool,
    want: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, dict[int, list[Any]]]:
    n = comp.a.shape[1]
    duals: dict[int, list[Any]] = {}
    if comp.a.shape[0] == 0:  # no relation binds these cells
        return np.ones(n), np.full(n, comp.cap), np.ones(n, bool), True, duals
    point = truth if truth is not None else comp.solve(np.ones(n))
    if point is None:
        nan = np.full(n, np.nan)
        return nan, nan, np.zeros(n, bool), False, duals
    lo, hi = point.astype(float).copy(), point.astype(float).copy()
    proven_lo, proven_hi = np.zeros(n, bool), np.zeros(n, bool)

    def see(x: np.ndarray | None) -> None:
        if x is not None:
            np.minimum(lo, x, out=lo)
            np.maximum(hi, x, out=hi)

    wanted = np.ones(n, bool) if want is None else want
    if fast:  # push the undecided cells up together, then down, while that decides some
        open_ = ~is_safe(lo, hi, threshold, interval) & wanted
        for sign in (-1.0, 1.0) * SWEEPS:
            if not open_.any():
                break
            see(comp.solve(np.where(open_, sign, 0.0)))
            still = ~is_safe(lo, hi, threshold, interval) & wanted
            if sign > 0 and still.sum() == open_.sum():
                break
            open_ = still
    for i in range(n):
        if not wanted[i]:
            continue
        if fast and is_safe(lo[i : i + 1], hi[i : i + 1], threshold, interval)[0]:
            continue
        c = np.zeros(n)
        c[i] = -1.0
        x = comp.solve(c)
        see(x)
        if x is not None:
            hi[i], proven_hi[i] = x[i], True
            duals[i] = [_sparse(comp.dual)]
        if fast and is_safe(lo[i : i + 1], hi[i : i + 1], threshold, interval)[0]:
            continue
        if lo[i] <= 1.0 + TOL:
            proven_lo[i] = True
            lo[i] = 1.0
            continue
        c[i] = 1.0
        x = comp.solve(c)
        see(x)
        if x is not None:
            lo[i], proven_lo[i] = x[i], True
            duals.setdefault(i, []).append(_sparse(comp.dual))
    safe = is_safe(lo, hi, threshold, interval)
    duals = {i: d for i, d in duals.items() if not safe[i]}
    return lo, hi, proven_lo & proven_hi, True, duals


def _sparse(dual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    nz = np.flatnonzero(np.abs(dual) > 1e-9)
    return nz, dual[nz]
