"""Prove suppressed cells safe without linear programming: box witnesses (as tau-Argus does).

In each dimension, a vector d_k over its levels that keeps every 1-D relation of that dimension
(parent = sum of children) is a `chain` (+1 on a leaf and all its ancestors up to the total) or
the difference of two chains. The outer product d_1 x ... x d_N then keeps every relation of the
whole table. When all cells of its support (a box of 2^N cells in a flat table) are suppressed,
the truth plus t times that product is another published-consistent table for every t with all
its cells still at least 1: two integer solutions giving each corner different values, which
proves the corners are not exactly recoverable. Sound by construction; cells without a box go to
the LP.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ctdata.disclosure.structure import TableStructure

MAX_NODES = 60  # search nodes per cell before handing it to the LP


@dataclass
class Options:
    """Per level of one dimension: the 1-D kernel vectors whose support holds it, padded."""

    index: list[np.ndarray]  # (options, width) level indices, padded with n_levels
    sign: list[np.ndarray]  # (options, width) +1/-1, 0 at padding


def _chains(children: dict[int, list[int]], n: int) -> dict[int, list[int]]:
    parent = {c: p for p, cs in children.items() for c in cs}
    leaves = [v for v in range(n) if v not in children]
    chains = {}
    for leaf in leaves:
        node, chain = leaf, [leaf]
        while node in parent:
            node = parent[node]
            chain.append(node)
        chains[leaf] = chain
    return chains


def dimension_options(children: dict[int, list[int]], n: int) -> Options:
    chains = _chains(children, n)
    vectors: list[dict[int, int]] = [dict.fromkeys(ch, 1) for ch in chains.values()]
    for a, b in itertools.combinations(chains, 2):
        diff = dict.fromkeys(chains[a], 1)
        for v in chains[b]:
            diff[v] = diff.get(v, 0) - 1
        vectors.append({k: s for k, s in diff.items() if s})
    per_level: list[list[dict[int, int]]] = [[] for _ in range(n)]
    for vec in sorted(vectors, key=len):
        for level in vec:
            per_level[level].append(vec)
    index, sign = [], []
    for vecs in per_level:
        width = max((len(v) for v in vecs), default=1)
        idx = np.full((len(vecs), width), n, dtype=np.int64)
        sgn = np.zeros((len(vecs), width), dtype=np.int64)
        for i, vec in enumerate(vecs):
            idx[i, : len(vec)] = list(vec)
            sgn[i, : len(vec)] = list(vec.values())
        index.append(idx)
        sign.append(sgn)
    return Options(index, sign)


_CACHE: dict[int, tuple[TableStructure, list[Options]]] = {}


def _options_of(structure: TableStructure) -> list[Options]:
    """Options per dimension, cached per structure (the engine searches many times)."""
    hit = _CACHE.get(id(structure))
    if hit is not None and hit[0] is structure:
        return hit[1]
    shape = [len(lv) for lv in structure.levels]
    options = [dimension_options(ch, n) for ch, n in zip(structure.children, shape, strict=True)]
    _CACHE.clear()
    _CACHE[id(structure)] = (structure, options)
    return options


@dataclass
class Box:
    cells: np.ndarray  # table rows of the box's cells
    sign: np.ndarray  # +1/-1 per cell
    up: float  # largest t >= 0 with truth + t * sign >= 1 on the box
    down: float  # largest t >= 0 with truth - t * sign >= 1 on the box


class WitnessFinder:
    """Searches boxes of suppressed cells around a cell; the mask is a cube of the table."""

    def __init__(
        self,
        structure: TableStructure,
        values: np.ndarray,
        mask: np.ndarray,
        cost: np.ndarray | None = None,
    ) -> None:
        """With `cost` (per table row, 0 = already suppressed), boxes may also use published
        non-zero cells, cheapest extension first: that finds complements that create a box."""
        self.shape = tuple(len(lv) for lv in structure.levels)
        self.codes = structure.codes
        self.pos = np.empty(self.shape, dtype=np.int64)
        self.pos[tuple(structure.codes.T)] = np.arange(structure.n_cells)
        self.cost = None if cost is None else cost[self.pos]
        self.budget = MAX_NODES if cost is None else 50 * MAX_NODES
        usable = mask if cost is None else mask | (values > 0)
        self.hidden = usable[self.pos]
        self.values = values
        self.options = _options_of(structure)

    def suppress(self, cells: np.ndarray) -> None:
        """Cells now suppressed: usable by later boxes at no cost."""
        at = tuple(self.codes[cells].T)
        self.hidden[at] = True
        if self.cost is not None:
            self.cost[at] = 0.0

    def find(self, cell: int) -> Box | None:
        at = self.codes[cell]
        support: list[np.ndarray] = [np.array([c]) for c in at]
        signs: list[np.ndarray] = [np.array([1]) for _ in at]
        budget = [self.budget]
        return self._search(at, support, signs, list(range(len(at))), budget)

    def _valid(self, at: np.ndarray, support: list[np.ndarray], k: int) -> np.ndarray:
        sub = list(support)
        sub[k] = np.arange(self.shape[k])
        block = self.hidden[np.ix_(*sub)]
        others = tuple(a for a in range(block.ndim) if a != k)
        ok = np.append(block.all(axis=others) if others else block, True)
        opts = self.options[k].index[at[k]]
        valid = np.flatnonzero(ok[opts].all(axis=1))
        if self.cost is None or valid.size < 2:
            return valid
        price = self.cost[np.ix_(*sub)]
        price = np.append(price.sum(axis=others) if others else price, 0.0)
        return valid[np.argsort(price[opts[valid]].sum(axis=1), kind="stable")]

    def _search(
        self,
        at: np.ndarray,
        support: list[np.ndarray],
        signs: list[np.ndarray],
        todo: list[int],
        budget: list[int],
    ) -> Box | None:
        if not todo:
            return self._box(support, signs)
        if budget[0] <= 0:
            return None
        budget[0] -= 1
        if len(todo) == len(at):  # at the root: most constrained dimension first, then fixed
            valid = {d: self._valid(at, support, d) for d in todo}
            todo = sorted(todo, key=lambda d: valid[d].size)
        else:
            valid = {todo[0]: self._valid(at, support, todo[0])}
        k, rest = todo[0], todo[1:]
        idx, sgn = self.options[k].index[at[k]], self.options[k].sign[at[k]]
        if not rest:  # last dimension: keep only options with a direction that keeps cells >= 1
            valid[k] = valid[k][self._movable(support, signs, k, idx[valid[k]], sgn[valid[k]])]
        for o in valid[k]:
            keep = sgn[o] != 0
            support[k], signs[k] = idx[o][keep], sgn[o][keep]
            box = self._search(at, support, signs, rest, budget)
            if box is not None:
                return box
            if budget[0] <= 0:
                break
        support[k], signs[k] = np.array([at[k]]), np.array([1])
        return None

    def _movable(
        self,
        support: list[np.ndarray],
        signs: list[np.ndarray],
        k: int,
        idx: np.ndarray,
        sgn: np.ndarray,
    ) -> np.ndarray:
        """Per option of dimension k: can the box move up or down without a cell going below 1?
        (a corner at 1 blocks the direction in which it shrinks)."""
        sub = list(support)
        sub[k] = np.arange(self.shape[k])
        x = self.values[self.pos[np.ix_(*sub)]]
        part = np.ones([1] * len(support), dtype=np.int64)
        for d, s in enumerate(signs):
            if d != k:
                part = part * s.reshape([-1 if e == d else 1 for e in range(len(support))])
        others = tuple(a for a in range(x.ndim) if a != k)
        at_one = x <= 1
        pos = np.append((at_one & (part > 0)).any(axis=others), False)  # corner sign = s_l
        neg = np.append((at_one & (part < 0)).any(axis=others), False)  # corner sign = -s_l
        # moving up shrinks corners of sign -1: level l with s_l>0 via neg, s_l<0 via pos
        up_blocked = np.where(sgn > 0, neg[idx], np.where(sgn < 0, pos[idx], False)).any(axis=1)
        down_blocked = np.where(sgn > 0, pos[idx], np.where(sgn < 0, neg[idx], False)).any(axis=1)
        return ~(up_blocked & down_blocked)

    def _box(self, support: list[np.ndarray], signs: list[np.ndarray]) -> Box | None:
        cells = self.pos[np.ix_(*support)].ravel()
        sign = signs[0]
        for s in signs[1:]:
            sign = np.multiply.outer(sign, s)
        sign = np.asarray(sign).ravel()
        x = self.values[cells]
        up = float(np.min(x[sign < 0] - 1, initial=np.inf))
        down = float(np.min(x[sign > 0] - 1, initial=np.inf))
        if max(up, down) < 1:
            return None
        return Box(cells, sign, up, down)
