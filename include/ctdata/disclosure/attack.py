"""The attacker's linear programs over a linked model: what each group can be, given all releases.

Targets are the groups the published tables define: every node not shown (a suppressed cell, a
record-level group hidden by generalization, a margin nobody published) and every remainder of a
relation (a published or unknown total minus its published parts: the people the parts leave
out). A target is disclosed when its feasible interval is a single value or lies inside
1..threshold; a suppressed cell (known to be at least 1) must also reach above the threshold.

Proofs of safety need two feasible points, not optima: with the truth known (the pipeline), the
true table is one point and joint pushes (maximise, then minimise, every undecided target at
once) clear most targets; only the rest get their own min/max LPs. Without the truth (a public
audit), one LP finds a first feasible point.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ctdata.disclosure.linked import LinkedModel
from ctdata.disclosure.lp import ComponentLP, PushLP
from ctdata.errors import DisclosureError

logger = logging.getLogger(__name__)

TOL = 1e-6
SWEEPS = 12


@dataclass
class Targets:
    """One row of `matrix` per target (a sum of nodes). `cell`: a suppressed cell (at least 1,
    must be neither exact nor known small); otherwise a group (must not lie inside 1..t)."""

    matrix: sp.csr_matrix
    truth: np.ndarray
    threshold: np.ndarray
    cell: np.ndarray
    node: np.ndarray  # the node of a node target, -1 for a remainder
    relation: np.ndarray  # the relation row of a remainder, -1 for a node target

    @property
    def size(self) -> int:
        return int(self.truth.size)


@dataclass
class Verdict:
    """Per target: the lowest and highest value seen (optima where `proven`) and safety."""

    lower: np.ndarray
    upper: np.ndarray
    safe: np.ndarray
    proven: np.ndarray
    duals: dict[int, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)

    @property
    def failing(self) -> np.ndarray:
        return np.flatnonzero(~self.safe)


def targets_of(model: LinkedModel) -> Targets:
    """Every unknown node, and every remainder over two or more unknown parts of which some
    may be empty (when all parts are at least 1 the parts' own checks imply the remainder's)."""
    unknown = ~model.known
    nodes = np.flatnonzero(unknown)
    rows = [
        sp.csr_matrix((np.ones(nodes.size), (np.arange(nodes.size), nodes)), (nodes.size, model.n))
    ]
    rel = model.relations.tocsr()
    children = rel.multiply(rel > 0).tocsr()
    children = children.multiply(unknown[np.newaxis, :]).tocsr()
    children.eliminate_zeros()
    sizes = np.diff(children.indptr)
    may_be_empty = np.asarray(children @ (model.low < 1).astype(float)).ravel() > 0
    chosen = np.flatnonzero((sizes >= 2) & may_be_empty)
    remainders = _distinct(children[chosen])
    rows.append(remainders[0])
    matrix = sp.vstack(rows).tocsr()
    truth = matrix @ np.nan_to_num(model.truth)
    truth[np.asarray(matrix @ np.isnan(model.truth).astype(float)).ravel() > 0] = np.nan
    threshold = _max_over(matrix, model.threshold)
    cell = np.concatenate([model.low[nodes] >= 1, np.zeros(remainders[0].shape[0], bool)])
    node = np.concatenate([nodes, np.full(remainders[0].shape[0], -1)])
    relation = np.concatenate([np.full(nodes.size, -1), chosen[remainders[1]]])
    return Targets(matrix, truth, threshold, cell, node, relation)


def _distinct(matrix: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
    seen: set[bytes] = set()
    keep = []
    for i in range(matrix.shape[0]):
        sig = matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]].tobytes()
        if sig not in seen:
            seen.add(sig)
            keep.append(i)
    idx = np.array(keep, dtype=np.int64)
    return matrix[idx], idx


def _max_over(matrix: sp.csr_matrix, values: np.ndarray) -> np.ndarray:
    out = np.zeros(matrix.shape[0], dtype=np.int64)
    for i in range(matrix.shape[0]):
        cols = matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]]
        out[i] = values[cols].max(initial=0)
    return out


def is_safe(
    lower: np.ndarray, upper: np.ndarray, threshold: np.ndarray, cell: np.ndarray
) -> np.ndarray:
    """Not disclosed: a cell reaches above the threshold and takes two integer values; a group's
    interval holds 0 or a value above the threshold."""
    hi = np.floor(upper + TOL)
    lo = np.ceil(lower - TOL)
    above = hi >= threshold + 1
    return np.where(cell, above & (hi - lo >= 1), above | (lo <= 0))


def audit(model: LinkedModel, targets: Targets, *, truth_known: bool) -> Verdict:
    """Prove each target safe or return its interval (optimum) and the LP duals that pin it."""
    unknown = np.flatnonzero(~model.known)
    t = targets.size
    lower = np.full(t, np.inf)
    upper = np.full(t, -np.inf)
    proven = np.zeros(t, dtype=bool)
    verdict = Verdict(lower, upper, np.zeros(t, bool), proven)
    if unknown.size == 0:
        verdict.safe[:] = True
        return verdict
    rel = model.relations
    known_values = np.where(model.known, np.nan_to_num(model.value), 0.0)
    rhs = -(rel @ known_values)
    a_u = rel[:, unknown].tocsr()
    live = np.diff(a_u.indptr) > 0
    _check_published_sums(model, rhs, live)
    a_u, rhs, row_ids = a_u[live], rhs[live], np.flatnonzero(live)
    pattern = (abs(a_u).T @ abs(a_u)).tocsr()
    n_comp, label = connected_components(pattern, directed=False)
    t_u = targets.matrix[:, unknown].tocsc().tocsr()
    target_comp = label[t_u.indices[t_u.indptr[:-1]]] if t else np.array([], int)
    cap = float(10 * max(known_values.sum(), 1.0) + 10 * unknown.size + 1000)
    a_csc = a_u.tocsc()
    for k in range(n_comp):
        cols = np.flatnonzero(label == k)
        mine = np.flatnonzero(target_comp == k)
        if mine.size == 0:
            continue
        sub = a_csc[:, cols]
        rows = np.unique(sub.indices)
        lp = ComponentLP(
            sub.tocsr()[rows],
            rhs[rows],
            model.low[unknown[cols]],
            np.minimum(model.high[unknown[cols]], cap),
        )
        truth = model.truth[unknown[cols]] if truth_known else None
        _solve(lp, t_u[mine][:, cols], truth, targets, mine, verdict, row_ids[rows], cap)
    verdict.upper[verdict.upper >= cap - 0.5] = np.inf
    return verdict


def _check_published_sums(model: LinkedModel, rhs: np.ndarray, live: np.ndarray) -> None:
    broken = np.flatnonzero(~live & (np.abs(rhs) > 0.5))
    if broken.size:
        row = model.relations[broken[0]]
        parent = int(row.indices[row.data < 0][0]) if (row.data < 0).any() else int(row.indices[0])
        raise DisclosureError(
            f"published values do not add up at {model.name(parent)} and {broken.size - 1} "
            "other totals: each total must equal the sum of its parts"
        )


def _solve(
    lp: ComponentLP,
    c: sp.csr_matrix,
    truth: np.ndarray | None,
    targets: Targets,
    mine: np.ndarray,
    verdict: Verdict,
    row_ids: np.ndarray,
    cap: float,
) -> None:
    n = c.shape[1]
    point = truth if truth is not None else lp.solve(np.zeros(n))
    if point is None:
        raise DisclosureError("the published tables admit no solution: they contradict each other")
    lo = verdict.lower
    hi = verdict.upper
    thr, cell = targets.threshold[mine], targets.cell[mine]

    def see(x: np.ndarray | None) -> None:
        if x is not None:
            v = c @ x
            lo[mine] = np.minimum(lo[mine], v)
            hi[mine] = np.maximum(hi[mine], v)

    see(point)
    rng = np.random.default_rng(len(mine))
    open_ = ~is_safe(lo[mine], hi[mine], thr, cell)
    push = PushLP(lp, c) if open_.any() else None
    for _ in range(SWEEPS):
        if not open_.any():
            break
        before = open_.sum()
        level = np.maximum(thr + 1.0, np.floor(hi[mine] + TOL) + 1.0)
        weight = np.where(open_, rng.random(open_.size) + 0.1, 0.0)  # rivals for one total
        see(push.solve(weight, np.minimum(level, lp.cap)))
        open_ = ~is_safe(lo[mine], hi[mine], thr, cell)
        groups = open_ & ~cell
        if groups.any():  # an empty group is as safe as a large one
            see(lp.solve(np.asarray(c[groups].sum(axis=0)).ravel()))
            open_ = ~is_safe(lo[mine], hi[mine], thr, cell)
        logger.debug("push cleared %d of %d", before - int(open_.sum()), before)
        if before - open_.sum() < max(5, 0.02 * before):
            break
    for j in np.flatnonzero(open_):
        i = int(mine[j])
        duals = []
        for sign in (-1.0, 1.0):  # maximise, then (where that may still help) minimise
            x = lp.solve(sign * c[j].toarray().ravel())
            if x is None:
                continue
            value = float((c[j] @ x)[0])
            duals.append((row_ids, lp.dual.copy()))
            if sign < 0:
                hi[i] = max(hi[i], value)
            else:
                lo[i] = min(lo[i], value)
            see(x)
            one = slice(i, i + 1)
            if is_safe(lo[one], hi[one], thr[j : j + 1], cell[j : j + 1])[0]:
                break
            if cell[j] and np.floor(hi[i] + TOL) < thr[j] + 1:
                break  # a suppressed cell that cannot exceed the threshold fails, whatever its min
        verdict.proven[i] = True
        if not is_safe(lo[i : i + 1], hi[i : i + 1], thr[j : j + 1], cell[j : j + 1])[0]:
            verdict.duals[i] = duals
    logger.debug(
        "component of %d groups: %d targets, %d after pushes, %d failing",
        n,
        mine.size,
        int(open_.sum()),
        len([1 for i in mine if i in verdict.duals]),
    )
    verdict.safe[mine] = is_safe(lo[mine], hi[mine], thr, cell)
