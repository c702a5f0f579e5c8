"""Complementary suppression: add the cheapest cells until the LP audit finds nothing exposed.

Two moves, repeated until clean:
1. closure: no additive relation may hold exactly one suppressed cell (it would equal the
   published total minus the published parts); add the best candidate of each such relation;
2. repair: for every cell the audit still pins down (e.g. a cell bridging two groups of
   suppressed cells), add the best candidate sharing one of its relations, then close again.
A candidate is a published non-zero cell (zeros are never suppressed, rule 4). The best is the
cheapest: small counts first, totals last (rule 3), fixing pending relations is a bonus,
opening new ones a penalty, ties broken by a seeded random draw.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ctdata.disclosure.lp import Intervals, feasible_intervals, is_safe
from ctdata.disclosure.structure import TableStructure
from ctdata.disclosure.witness import WitnessFinder
from ctdata.errors import DisclosureError

TOTAL_PENALTY = 3.0  # per aggregated dimension: suppress a total only when nothing else does
OPEN_PENALTY = 0.6  # a relation going from 0 to 1 suppressed cell will need another complement
FIX_BONUS = 1.0  # a relation going from 1 to 2 suppressed cells is settled
MAX_ROUNDS = 200


@dataclass
class Outcome:
    suppressed: np.ndarray
    rounds: int
    intervals: Intervals  # the passing audit of the final pattern


class Protector:
    """Holds one count column's structure, values and the growing suppression mask."""

    def __init__(
        self,
        structure: TableStructure,
        values: np.ndarray,
        *,
        threshold: int,
        interval: bool,
        seed: int,
    ) -> None:
        self.x = values.astype(float)
        self.threshold, self.interval = threshold, interval
        rel = structure.relations
        self.rows = sp.csr_matrix((np.ones(rel.nnz), rel.indices, rel.indptr), shape=rel.shape)
        self.cols = self.rows.tocsc()
        self.relations = rel
        self.structure = structure
        self.previous: Intervals | None = None
        rng = np.random.default_rng(seed)
        scale = float(self.x.max()) + 1.0 if self.x.size else 1.0
        self.cost = (
            1.0
            + 0.5 * self.x / scale
            + TOTAL_PENALTY * structure.aggregation
            + 1e-3 * rng.random(self.x.size)
        )
        self.mask = np.zeros(self.x.size, dtype=bool)
        self.count = np.zeros(rel.shape[0], dtype=np.int64)
        # parent cell of each relation, and the room (sum of value - 1) of its hidden children
        self.parent = rel.indices[rel.data < 0]
        self.slack = np.zeros(rel.shape[0])
        self.need = float(threshold) if interval else 1.0

    def cells_of(self, relation: int) -> np.ndarray:
        return self.rows.indices[self.rows.indptr[relation] : self.rows.indptr[relation + 1]]

    def relations_of(self, cell: int) -> np.ndarray:
        return self.cols.indices[self.cols.indptr[cell] : self.cols.indptr[cell + 1]]

    def add(self, cell: int, pending: list[tuple[float, int]]) -> None:
        self.mask[cell] = True
        rels = self.relations_of(cell)
        self.count[rels] += 1
        as_child = rels[self.parent[rels] != cell]
        self.slack[as_child] += self.x[cell] - 1
        for r in rels:
            heapq.heappush(pending, (0.0, int(r)))

    def tight(self, r: int) -> bool:
        """Published parent, hidden children with no room: each child is pinned near 1
        (e.g. a published total of 3 over three hidden cells: each is exactly 1)."""
        return bool(
            not self.mask[self.parent[r]] and self.count[r] >= 1 and self.slack[r] < self.need
        )

    def best(self, candidates: np.ndarray) -> int:
        """The cheapest candidate, counting the relations it settles and the ones it opens."""
        sub = self.cols[:, candidates]
        s = self.count[sub.indices]
        starts = sub.indptr[:-1]
        fixes = np.add.reduceat((s == 1).astype(float), starts)
        opens = np.add.reduceat((s == 0).astype(float), starts)
        score = self.cost[candidates] + OPEN_PENALTY * opens - FIX_BONUS * fixes
        return int(candidates[np.argmin(score)])

    def candidates(self, cells: np.ndarray, need: float = 0.0) -> np.ndarray:
        c = np.unique(cells)
        return c[~self.mask[c] & (self.x[c] > 0) & (self.x[c] - 1 >= need)]

    def close(self, pending: list[tuple[float, int]]) -> None:
        """Settle queued relations: one hidden cell alone, or hidden children with no room."""
        while pending:
            _, r = heapq.heappop(pending)
            if self.count[r] == 1:
                cand = self.candidates(self.cells_of(r))
            elif self.tight(r):
                cand = self.candidates(self.cells_of(r), self.need - self.slack[r])
                if not cand.size:
                    cand = self.candidates(self.cells_of(r))
            else:
                continue
            if cand.size:
                self.add(self.best(cand), pending)

    def start(self, primary: np.ndarray) -> None:
        pending: list[tuple[float, int]] = []
        for cell in np.flatnonzero(primary):
            self.add(int(cell), pending)
        self.close(pending)

    def failing(self) -> tuple[Intervals, np.ndarray]:
        res = feasible_intervals(
            self.relations,
            self.x,
            self.mask,
            threshold=self.threshold,
            interval=self.interval,
            fast=True,
            truth_known=True,
            structure=self.structure,
            previous=self.previous,
            local_only=True,
        )
        self.previous = res
        return res, ~is_safe(res.lower, res.upper, self.threshold, self.interval)

    def pinning(self, duals: list[tuple[np.ndarray, np.ndarray]], need: float) -> np.ndarray:
        """Published cells whose value bounds the failing cell's LP optimum (non-zero dual
        weight): suppressing one of them is what frees the cell."""
        cells: list[np.ndarray] = []
        for rel_ids, y in duals:
            weight = self.relations[rel_ids].T @ y
            cells.append(np.flatnonzero(np.abs(weight) > 1e-9))
        return self.candidates(np.concatenate(cells), need) if cells else np.array([], int)

    def complete_boxes(self, cells: np.ndarray) -> None:
        """Cells no LP looked at (huge components): suppress the cheapest cells that complete
        a box witness around each, as tau-Argus's hypercube method does."""
        pending: list[tuple[float, int]] = []
        have = WitnessFinder(self.structure, self.x, self.mask)
        make = WitnessFinder(self.structure, self.x, self.mask, np.where(self.mask, 0, self.cost))
        for cell in cells:
            if have.find(int(cell)) is not None:
                continue
            box = make.find(int(cell))
            if box is None:
                continue
            new = box.cells[~self.mask[box.cells]]
            for c in new:
                self.add(int(c), pending)
            have.suppress(new)
            make.suppress(new)
        self.close(pending)

    def repair(self, res: Intervals, bad: np.ndarray) -> None:
        pending: list[tuple[float, int]] = []
        added: set[int] = set()
        blind = [int(res.cells[j]) for j in np.flatnonzero(bad) if np.isnan(res.lower[j])]
        blind_cells = np.array(blind, dtype=np.int64)
        if blind_cells.size:
            self.complete_boxes(blind_cells)
        for j in np.flatnonzero(bad):
            if np.isnan(res.lower[j]):
                continue
            cell, up = int(res.cells[j]), float(res.upper[j])
            need = 0.0
            if self.interval and up <= self.threshold + 1e-6:
                need = self.threshold + 1 - up
            cand = self.pinning(res.duals.get(cell, []), need)
            if added.intersection(cand.tolist()):
                continue  # a complement added for another cell already frees this one
            if not cand.size:
                near = np.concatenate([self.cells_of(r) for r in self.relations_of(cell)])
                cand = self.candidates(near, need)
            if not cand.size:
                cand = self.candidates(np.flatnonzero(~self.mask), need)
            if cand.size:
                pick = self.best(cand)
                added.add(pick)
                self.add(pick, pending)
            self.close(pending)


def protect(
    structure: TableStructure,
    values: np.ndarray,
    primary: np.ndarray,
    *,
    threshold: int,
    interval: bool,
    seed: int,
) -> Outcome:
    """Suppression mask (primary plus complements) that passes the audit, or DisclosureError."""
    p = Protector(structure, values, threshold=threshold, interval=interval, seed=seed)
    p.start(primary)
    for rounds in range(1, MAX_ROUNDS + 1):
        res, bad = p.failing()
        if not bad.any():
            return Outcome(p.mask, rounds, res)
        p.repair(res, bad)
    raise DisclosureError(
        f"no safe suppression pattern after {MAX_ROUNDS} rounds; aggregate the table further "
        "(fewer categories) and retry"
    )
