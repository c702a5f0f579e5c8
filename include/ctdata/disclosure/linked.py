"""Everything a population's releases publish, as one linear system over *groups of people*.

A node is a group: a cell key (a label per dimension of the population, "all" for dimensions
a table does not break down by) at one data snapshot. Cells of different tables with the same
key at the same snapshot are the same people, so they are one node (tau-Argus's linked tables);
the same key at consecutive snapshots is one node when its true value did not change (the
worst-case attacker of the README assumes unchanged cells equal). Each release contributes its
cube's additive relations (parent = sum of children) over those nodes; a node shown by any
release is known to everybody, the others keep the bounds the published rules give away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ctdata.disclosure.release import ALL, Release, describe_key
from ctdata.errors import DisclosureError

TOL = 1e-6


@dataclass
class LinkedModel:
    """Nodes (groups) and relations of a population's releases. Per node: `truth` (NaN when
    unknown), `known`/`value` (shown by some release), `low`/`high` (the attacker's bounds when
    not shown), `threshold` (the largest of its tables'). `node_of[r]` maps release r's cube
    rows to nodes; `relations` rows are `-parent + sum(children) = 0`."""

    releases: list[Release]
    dims: list[str]
    node_of: list[np.ndarray]
    truth: np.ndarray
    known: np.ndarray
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    threshold: np.ndarray
    relations: sp.csr_matrix
    first_instance: np.ndarray  # per node: (release, row) of one cell that belongs to it

    @property
    def n(self) -> int:
        return int(self.truth.size)

    def republish(self, index: int, release: Release) -> None:
        """Replace release `index` by the same cube showing other values, and recompute what
        every node's cells make known."""
        self.releases[index] = release
        attrs = node_attributes(self.releases, self.node_of, self.n)
        self.truth, self.known, self.value, self.low, self.high, self.threshold = attrs

    def name(self, node: int) -> str:
        """'<table> [labels] (snapshot)' of one cell of the node, for messages (never a value)."""
        r, row = self.first_instance[node]
        release = self.releases[r]
        key = {d: str(release.cells[d].iloc[row]) for d in release.dims}
        return f"{release.table} [{describe_key(key)}] (release of {release.snapshot})"

    def tables_of(self, node: int) -> list[str]:
        return sorted(
            {rel.table for r, rel in enumerate(self.releases) if (self.node_of[r] == node).any()}
        )


def population_dims(releases: Sequence[Release]) -> list[str]:
    """The union of the tables' dimensions, in first-seen order."""
    return list(dict.fromkeys(d for rel in releases for d in rel.dims))


def build_model(releases: Sequence[Release]) -> LinkedModel:
    """Link the releases: identify equal keys within a snapshot, merge unchanged keys across
    snapshots, collect relations. Where the truth of both snapshots is known the merge follows
    it (the worst-case attacker knows which cells did not change); elsewhere an outsider's
    guess (unchanged unless published values differ) is kept only where it is consistent with
    everything published (`_consistent_guesses`)."""
    releases = list(releases)
    dims = population_dims(releases)
    inst = _instances(releases, dims)
    snap_node = inst.groupby(["seq", *dims], sort=False, dropna=False).ngroup().to_numpy()
    _check_identified(inst, snap_node, releases)
    hard, soft = _unchanged_pairs(inst, snap_node, dims)
    model, root = _assemble(releases, inst, snap_node, dims, hard)
    if soft.size:
        kept = _consistent_guesses(model, root[soft])
        model, _ = _assemble(releases, inst, snap_node, dims, np.vstack([hard, soft[kept]]))
    return model


def _assemble(
    releases: list[Release], inst: pd.DataFrame, snap_node: np.ndarray, dims: list[str],
    pairs: np.ndarray,
) -> tuple[LinkedModel, np.ndarray]:  # fmt: skip
    """The model with the snapshot nodes in `pairs` merged; also each snapshot node's node."""
    parent = np.arange(snap_node.max() + 1 if snap_node.size else 0)
    for a, b in pairs:
        _union(parent, int(a), int(b))
    uniq, root = np.unique(_roots(parent), return_inverse=True)
    node = root[snap_node]
    n = uniq.size
    node_of, offset = [], 0
    for rel in releases:
        node_of.append(node[offset : offset + len(rel.cells)])
        offset += len(rel.cells)
    attrs = node_attributes(releases, node_of, n)
    relations = _relations(releases, node_of, n)
    first = np.zeros((n, 2), dtype=np.int64)
    order = np.arange(node.size)[::-1]
    first[node[order]] = inst[["release", "row"]].to_numpy()[order]
    return LinkedModel(releases, dims, node_of, *attrs, relations, first), root


def _consistent_guesses(model: LinkedModel, pairs: np.ndarray) -> np.ndarray:
    """Which guessed merges (node pairs) one table of values consistent with everything
    published satisfies all at once: the attacker's most economical explanation of the
    changes (least total change, an L1 linear program)."""
    from scipy.optimize import linprog

    unknown = np.flatnonzero(~model.known)
    col = np.full(model.n, -1)
    col[unknown] = np.arange(unknown.size)
    value = np.where(model.known, np.nan_to_num(model.value), 0.0)
    rel = model.relations
    a_eq = rel[:, unknown]
    b_eq = -(rel @ value)
    live = np.diff(a_eq.tocsr().indptr) > 0
    a_eq, b_eq = a_eq[live], b_eq[live]
    n, m = unknown.size, len(pairs)
    rows, cols, data, rhs = [], [], [], np.zeros(2 * m)
    for p, (u, v) in enumerate(pairs):
        for sign, r in ((1.0, 2 * p), (-1.0, 2 * p + 1)):  # +-(x_u - x_v) - d_p <= 0
            for node, coef in ((u, sign), (v, -sign)):
                if col[node] >= 0:
                    rows.append(r), cols.append(col[node]), data.append(coef)
                else:
                    rhs[r] -= coef * value[node]
            rows.append(r), cols.append(n + p), data.append(-1.0)
    a_ub = sp.csr_matrix((data, (rows, cols)), shape=(2 * m, n + m))
    a_eq = sp.hstack([a_eq, sp.csr_matrix((a_eq.shape[0], m))]).tocsr()
    cap = float(10 * max(value.sum(), 1.0) + 1000)
    lower = np.concatenate([model.low[unknown], np.zeros(m)])
    upper = np.concatenate([np.minimum(model.high[unknown], cap), np.full(m, np.inf)])
    cost = np.concatenate([np.zeros(n), np.ones(m)])
    res = linprog(cost, A_ub=a_ub, b_ub=rhs, A_eq=a_eq, b_eq=b_eq,
                  bounds=np.column_stack([lower, upper]), method="highs")  # fmt: skip
    if res.status != 0:
        return np.zeros(m, bool)
    return res.x[n:] < 1e-6


def _instances(releases: list[Release], dims: list[str]) -> pd.DataFrame:
    parts = []
    for r, rel in enumerate(releases):
        part = pd.DataFrame({d: rel.cells[d].astype(str) if d in rel.dims else ALL for d in dims})
        for column in ("truth", "shown", "low", "high"):
            part[column] = rel.cells[column].to_numpy(dtype=float)
        part["seq"] = rel.seq
        part["release"] = r
        part["row"] = np.arange(len(rel.cells))
        part["threshold"] = rel.threshold
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _check_identified(inst: pd.DataFrame, snap_node: np.ndarray, releases: list[Release]) -> None:
    """Tables of one population must count the same people the same way at one snapshot."""
    truth = inst["truth"].to_numpy()
    frame = pd.DataFrame({"node": snap_node, "truth": truth}).dropna()
    spread = frame.groupby("node")["truth"].agg(["min", "max"])
    bad = spread.index[spread["max"] - spread["min"] > TOL]
    if len(bad):
        rows = inst.loc[np.isin(snap_node, bad[:1])]
        tables = sorted({releases[r].table for r in rows["release"]})
        rel = releases[int(rows["release"].iloc[0])]
        key = {d: str(rel.cells[d].iloc[int(rows["row"].iloc[0])]) for d in rel.dims}
        raise DisclosureError(
            f"tables {', '.join(tables)} are declared one population but count "
            f"[{describe_key(key)}] differently in the same run ({len(bad)} such cells): they "
            "must describe the same people with the same categories, or be separate populations"
        )


def _unchanged_pairs(
    inst: pd.DataFrame, snap_node: np.ndarray, dims: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of snapshot nodes (a key at consecutive snapshots) held unchanged: `hard` where
    both truths are equal or both published values are; `soft` (a guess) where one of the two
    is unpublished and the truth is not known on both sides."""
    per = pd.DataFrame(
        {
            "node": snap_node,
            "key": inst.groupby(dims, sort=False, dropna=False).ngroup().to_numpy(),
            "seq": inst["seq"].to_numpy(),
            "truth": inst["truth"].to_numpy(),
            "shown": inst["shown"].to_numpy(),
        }
    )
    per = per.groupby("node", sort=False).agg(
        key=("key", "first"), seq=("seq", "first"), truth=("truth", "max"), shown=("shown", "max")
    )
    per = per.reset_index().sort_values(["key", "seq"], kind="stable")
    same_key = per["key"].to_numpy()[1:] == per["key"].to_numpy()[:-1]
    t = per["truth"].to_numpy()
    v = per["shown"].to_numpy()
    both_true = ~np.isnan(t[1:]) & ~np.isnan(t[:-1])
    both_shown = ~np.isnan(v[1:]) & ~np.isnan(v[:-1])
    hard = same_key & np.where(
        both_true, np.abs(t[1:] - t[:-1]) < TOL, both_shown & (np.abs(v[1:] - v[:-1]) < TOL)
    )
    soft = same_key & ~both_true & ~both_shown
    nodes = per["node"].to_numpy()
    pairs = np.column_stack([nodes[:-1], nodes[1:]])
    return pairs[hard], pairs[soft]


def _union(parent: np.ndarray, a: int, b: int) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)


def _find(parent: np.ndarray, a: int) -> int:
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


def _roots(parent: np.ndarray) -> np.ndarray:
    return np.array([_find(parent, i) for i in range(parent.size)], dtype=np.int64)


def node_attributes(
    releases: Sequence[Release], node_of: Sequence[np.ndarray], n: int
) -> tuple[np.ndarray, ...]:
    """Per node: truth, known, value, low, high, threshold, from its cells in every release
    (the engine calls it again whenever it changes what a new release shows)."""
    node = np.concatenate(node_of)
    column = {c: np.concatenate([r.cells[c].to_numpy(dtype=float) for r in releases]) for c in
              ("truth", "shown", "low", "high")}  # fmt: skip
    thr = np.concatenate([np.full(len(r.cells), r.threshold) for r in releases])
    truth = _reduce(np.fmax, node, column["truth"], n, np.nan)
    lo_shown = _reduce(np.fmin, node, column["shown"], n, np.nan)
    hi_shown = _reduce(np.fmax, node, column["shown"], n, np.nan)
    clash = np.flatnonzero(hi_shown - lo_shown > TOL)
    if clash.size:
        raise DisclosureError(
            f"{clash.size} groups are published with two different values across tables or "
            "releases while the model holds them equal: the tables disagree"
        )
    known = ~np.isnan(lo_shown)
    low = _reduce(np.fmax, node, column["low"], n, 0.0)
    high = _reduce(np.fmin, node, column["high"], n, np.inf)
    threshold = _reduce(np.fmax, node, thr.astype(float), n, 0.0).astype(np.int64)
    return truth, known, lo_shown, low, high, threshold


def _reduce(
    op: np.ufunc, index: np.ndarray, values: np.ndarray, n: int, start: float
) -> np.ndarray:
    out = np.full(n, np.nan)
    op.at(out, index, values)
    return np.where(np.isnan(out), start, out) if not np.isnan(start) else out


def _relations(releases: list[Release], node_of: list[np.ndarray], n: int) -> sp.csr_matrix:
    """Every release's relations over nodes, each distinct relation once."""
    rows: list[sp.csr_matrix] = []
    for rel, nodes in zip(releases, node_of, strict=True):
        r = rel.structure.relations.tocoo()
        rows.append(sp.csr_matrix((r.data, (r.row, nodes[r.col])), shape=(r.shape[0], n)))
    if not rows:
        return sp.csr_matrix((0, n))
    stacked = sp.vstack(rows).tocsr()
    stacked.sum_duplicates()
    stacked.sort_indices()
    return _distinct_rows(stacked)


def _distinct_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    seen: dict[bytes, int] = {}
    keep = []
    for i in range(matrix.shape[0]):
        lo, hi = matrix.indptr[i], matrix.indptr[i + 1]
        if lo == hi:
            continue
        sig = matrix.indices[lo:hi].tobytes() + matrix.data[lo:hi].tobytes()
        if sig not in seen:
            seen[sig] = i
            keep.append(i)
    return matrix[keep]
