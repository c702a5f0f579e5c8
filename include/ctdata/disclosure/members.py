"""The tables of a population as the joint engine sees them: what each shows given a mask.

An `AggregateMember` is a count table (the cube `aggregate` builds, every margin included): a
masked cell is suppressed (the public knows it is at least 1). A `RecordsMember` is a
de-identified record-level table (see records.py): a masked margin is never completed by a
"Suppressed" group. Both turn a node-level decision into a `Release` (for the audit and the
history) and into the table that is published.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ctdata.disclosure.records import RecordsCube
from ctdata.disclosure.release import INF, Release, canonical_cells, canonical_hierarchy
from ctdata.disclosure.spec import AggregationSpec
from ctdata.disclosure.suppression import apply_rates, flag_column


@dataclass
class AggregateMember:
    table: str
    spec: AggregationSpec
    cube: pd.DataFrame  # `aggregate` output: dimension labels (spec's total label) and counts

    @property
    def dims(self) -> list[str]:
        return [d.column for d in self.spec.dimensions]

    def truth(self) -> np.ndarray:
        return self.cube[self.spec.count_column].to_numpy(dtype=float)

    def primary(self) -> np.ndarray:
        """The state's rule 1 and 4: counts from 1 to the threshold, never zero."""
        x = self.truth()
        return (x >= 1) & (x <= self.spec.threshold)

    def release(self, snapshot: str, seq: int, mask: np.ndarray | None) -> Release:
        cells = canonical_cells(self.cube, self.dims, self.spec.total_label, self.truth())
        hidden = np.zeros(len(cells), bool) if mask is None else mask
        cells["shown"] = np.where(hidden, np.nan, cells["truth"])
        cells["low"] = np.where(hidden, 1.0, 0.0)
        cells["high"] = INF
        hierarchy = canonical_hierarchy(
            self.spec.to_suppression_spec().hierarchy, self.spec.total_label
        )
        return Release(
            self.table, snapshot, seq, "aggregate", self.dims, cells, self.spec.threshold, hierarchy
        )

    def own_pattern(self, release: Release, hidden: np.ndarray) -> np.ndarray:
        """The single-table engine's safe pattern around the cells that must be hidden: the
        joint engine's starting point (it only adds what the other tables and releases need)."""
        from ctdata.disclosure.complementary import protect

        outcome = protect(
            release.structure,
            self.truth(),
            hidden,
            threshold=self.spec.threshold,
            interval=True,
            seed=self.spec.seed,
        )
        return outcome.suppressed

    def cells_at_margin(self, release: Release) -> np.ndarray:
        """How many dimensions each cell totals over (totals cost more to suppress: rule 3)."""
        return release.structure.aggregation

    def publish(self, mask: np.ndarray) -> pd.DataFrame:
        """The published table: counts blank where suppressed, a flag column, rates withheld
        as the state's rules say (what `suppress` returns for one table)."""
        column = self.spec.count_column
        out = self.cube.copy()
        values = self.truth().astype(np.int64)
        out[column] = pd.array(values, dtype="Int64")
        out.loc[mask, column] = pd.NA
        out[flag_column(column)] = mask
        apply_rates(out, self.cube, self.spec.to_suppression_spec(), {column: mask})
        return out

    def stats(self, mask: np.ndarray, primary: np.ndarray, sticky: np.ndarray) -> dict[str, int]:
        return {
            "cells": int(mask.size),
            "cells_suppressed": int(mask.sum()),
            "primary": int((mask & primary).sum()),
            "sticky": int((mask & sticky & ~primary).sum()),
            "complementary": int((mask & ~primary & ~sticky).sum()),
        }


@dataclass
class RecordsMember:
    table: str
    cube: RecordsCube  # holds the records (or reads them again) to generalize them

    @property
    def dims(self) -> list[str]:
        return self.cube.dims

    def truth(self) -> np.ndarray:
        return self.cube.cells["truth"].to_numpy(dtype=float)

    def release(self, snapshot: str, seq: int, mask: np.ndarray | None) -> Release:
        allowed = None if mask is None else ~mask
        return self.cube.release(self.table, snapshot, seq, allowed)

    def publish(self, mask: np.ndarray) -> pd.DataFrame:
        return self.cube.publish(~mask)

    def publish_batches(self, mask: np.ndarray) -> Iterator[pd.DataFrame]:
        return self.cube.publish_batches(~mask)

    def stats(self, mask: np.ndarray, primary: np.ndarray, sticky: np.ndarray) -> dict[str, int]:
        cube, rule = self.cube, self.cube.rule
        hidden = cube.atom & ~cube.visible & (self.truth() > 0)
        summary = cube.summary(~mask)
        records = int(self.truth()[cube.atom].sum())
        columns = list(rule.generalize)  # a record generalized at level j reads the label in
        generalized = {c: sum(summary[f"records_generalized_{d}"] for d in columns[j:])
                       for j, c in enumerate(columns)}  # every column up to j  # fmt: skip
        return {
            "groups_hidden": int(hidden.sum()),
            "groups_hidden_to_protect": int((cube.visible & mask).sum()),
            **summary,
            "small_groups": {  # what the Open Data view shows of it
                "k": rule.k,
                "quasi_identifiers": list(rule.quasi_identifiers),
                "generalized": generalized,  # records whose value became the label, by column
                "label": rule.label,
                "records_in": records,
                "records_dropped": summary["records_removed"],
            },
        }


Member = AggregateMember | RecordsMember
