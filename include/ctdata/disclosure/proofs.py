"""Proofs of safety without LPs in a linked model: box witnesses (witness.py) that only move
groups no other table or release sees differently.

A box of suppressed cells in one release's cube, moved up or down, keeps that cube's relations.
It keeps the whole model's relations too when every group of the box appears in exactly the same
releases (e.g. one table's interior cells, in every release where they did not change) and those
releases share the cube's structure: each of them sees the same box. Such groups are proven as
the single-table engine proves them; the rest go to the LP (attack.py).
"""

from __future__ import annotations

import numpy as np

from ctdata.disclosure.linked import LinkedModel
from ctdata.disclosure.lp import is_safe as cell_is_safe
from ctdata.disclosure.witness import WitnessFinder


def box_proofs(model: LinkedModel, nodes: np.ndarray) -> np.ndarray:
    """The subset of `nodes` (unknown groups, each at least 1) proven safe by a box."""
    if nodes.size == 0:
        return nodes
    family = _families(model)
    proven: list[int] = []
    by_family: dict[tuple[int, ...], list[int]] = {}
    for node in nodes:
        by_family.setdefault(family[int(node)], []).append(int(node))
    for members, todo in by_family.items():
        if not _same_structure(model, members) or any(
            model.releases[r].kind != "aggregate" for r in members
        ):
            continue
        proven += _prove_in(model, members[-1], family, members, np.array(todo))
    return np.array(sorted(proven), dtype=np.int64)


def _families(model: LinkedModel) -> dict[int, tuple[int, ...]]:
    """Per node: the releases that hold one of its cells."""
    seen: dict[int, list[int]] = {}
    for r, nodes in enumerate(model.node_of):
        for node in np.unique(nodes):
            seen.setdefault(int(node), []).append(r)
    return {node: tuple(rs) for node, rs in seen.items()}


def _same_structure(model: LinkedModel, releases: tuple[int, ...]) -> bool:
    first = model.releases[releases[0]].structure
    for r in releases[1:]:
        other = model.releases[r].structure
        if other.levels != first.levels or other.children != first.children:
            return False
    return True


def _prove_in(
    model: LinkedModel,
    r: int,
    family: dict[int, tuple[int, ...]],
    members: tuple[int, ...],
    todo: np.ndarray,
) -> list[int]:
    nodes = model.node_of[r]
    exclusive = np.array([family[int(n)] == members for n in nodes])
    usable = exclusive & ~model.known[nodes] & (model.low[nodes] >= 1)
    truth = np.nan_to_num(model.truth[nodes])
    structure = model.releases[r].structure
    finder = WitnessFinder(structure, truth, usable)
    row_of = {int(n): i for i, n in enumerate(nodes) if usable[i]}
    lo = truth.copy()
    hi = truth.copy()
    threshold = int(model.threshold[todo].max(initial=0))
    safe = np.zeros(len(nodes), bool)
    for node in todo:
        row = row_of.get(int(node))
        if row is None or safe[row]:
            continue
        box = finder.find(row)
        if box is None:
            continue
        x = truth[box.cells]
        grow = np.where(box.sign > 0, box.up, box.down)
        shrink = np.where(box.sign > 0, box.down, box.up)
        hi[box.cells] = np.maximum(hi[box.cells], x + grow)
        lo[box.cells] = np.minimum(lo[box.cells], x - shrink)
        safe[box.cells] = cell_is_safe(lo[box.cells], hi[box.cells], threshold, True)
    return [int(n) for n in todo if (row := row_of.get(int(n))) is not None and safe[row]]
