"""The attacker model run on a set of releases: every group the tables define, each with the
interval everything published allows, and the ones disclosed (README.md, "Attacker model").

Used by `ctdata audit --agency` (on what the portal and kept exports show, with the truth where
the pipeline recorded the release) and by the publish step's gate (on the recorded history
plus the release about to be sent).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ctdata.disclosure.attack import audit, targets_of
from ctdata.disclosure.linked import LinkedModel, build_model
from ctdata.disclosure.release import Release


@dataclass
class Disclosure:
    """One disclosed group: which, and what an attacker learns (its interval)."""

    group: str
    tables: list[str]
    lower: float
    upper: float
    kind: str  # "suppressed cell" or "group"

    def describe(self) -> str:
        up = "inf" if math.isinf(self.upper) else f"{self.upper:g}"
        return f"{self.group}: {self.kind} in [{self.lower:g}, {up}]"


@dataclass
class Assessment:
    releases: int
    groups: int
    disclosures: list[Disclosure] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.disclosures

    def headline(self) -> str:
        """Counts only: safe for logs, alerts and the Open Data view."""
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"joint audit {verdict}: {self.groups} groups checked over {self.releases} "
            f"releases, {len(self.disclosures)} disclosed"
        )


def assess(releases: Sequence[Release]) -> Assessment:
    """The attacker model on these releases. Cells are held unchanged between releases where
    the true values say so (releases the pipeline recorded), else where nothing published
    says otherwise."""
    releases = list(releases)
    truth_known = all(not r.cells["truth"].isna().any() for r in releases)
    model = build_model(releases)
    targets = targets_of(model)
    verdict = audit(model, targets, truth_known=truth_known)
    out = Assessment(len(releases), targets.size)
    if not truth_known:
        out.assumptions.append(
            "cells of releases without a recorded truth are taken as unchanged between "
            "releases unless their published values differ"
        )
    for j in verdict.failing:
        out.disclosures.append(
            _disclosure(model, targets, int(j), verdict.lower[j], verdict.upper[j])
        )
    return out


def _disclosure(model: LinkedModel, targets, j: int, lower: float, upper: float) -> Disclosure:  # noqa: ANN001
    nodes = targets.matrix.indices[targets.matrix.indptr[j] : targets.matrix.indptr[j + 1]]
    tables = sorted({t for n in nodes for t in model.tables_of(int(n))})
    if targets.node[j] >= 0:
        name = model.name(int(targets.node[j]))
    else:
        row = model.relations[int(targets.relation[j])]
        parent = int(row.indices[row.data < 0][0])
        name = f"the people of {model.name(parent)} outside its published parts"
    kind = "suppressed cell" if targets.cell[j] else "group"
    return Disclosure(name, tables, float(np.round(lower, 6)), float(np.round(upper, 6)), kind)
