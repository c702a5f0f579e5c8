"""One release of one table, as the attacker model sees it (see README.md, "Attacker model").

A release is the table's full cube (every combination of its dimensions, margins included),
each cell with its true value and what the public was shown: a published value, or bounds the
published rules give away (a suppressed count is at least 1; a record-level group hidden by
generalization is at most k-1). Every table of a population is reduced to this one shape, so
aggregated tables, de-identified records and earlier releases are audited by one model.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ctdata.disclosure.spec import SuppressionSpec
from ctdata.disclosure.structure import TableStructure, build_structure

ALL = "(all)"  # the margin label every table's total is renamed to, so totals link across tables
INF = math.inf
Kind = Literal["aggregate", "records"]
CELL_COLUMNS = ("truth", "shown", "low", "high")


@dataclass
class Release:
    """`cells` holds one row per cube cell: the dimension labels (ALL for a margin), `truth`
    (NaN when unknown, as for a table read from the portal), `shown` (NaN when not published)
    and `low`/`high`, the bounds an attacker knows for a cell that is not shown."""

    table: str
    snapshot: str  # the data the release was computed from: releases of one run share it
    seq: int  # position of the snapshot in time (earlier releases first)
    kind: Kind
    dims: list[str]
    cells: pd.DataFrame
    threshold: int
    hierarchy: dict[str, dict[str, str]] = field(default_factory=dict)
    _structure: TableStructure | None = field(default=None, init=False, repr=False)

    @property
    def structure(self) -> TableStructure:
        """The cube's additive relations (built once)."""
        if self._structure is None:
            spec = SuppressionSpec.model_construct(
                dimensions=list(self.dims),
                counts=["truth"],
                threshold=self.threshold,
                total_label=ALL,
                hierarchy=self.hierarchy or None,
                protection="interval",
                rates=[],
                seed=0,
            )
            self._structure = build_structure(self.cells, spec)
        return self._structure

    def shown_mask(self) -> np.ndarray:
        return self.cells["shown"].notna().to_numpy()

    def with_cells(self, cells: pd.DataFrame) -> Release:
        """The same table and snapshot with other published values (same cube, same order)."""
        out = Release(
            self.table, self.snapshot, self.seq, self.kind, self.dims, cells, self.threshold,
            self.hierarchy,
        )  # fmt: skip
        out._structure = self._structure
        return out

    def same_publication(self, other: Release) -> bool:
        """True when both releases show the same cells with the same values and truths (a
        refresh that changed nothing adds no release to the history)."""
        if self.dims != other.dims or len(self.cells) != len(other.cells):
            return False
        keys = list(self.dims)
        a = self.cells.sort_values(keys).reset_index(drop=True)
        b = other.cells.sort_values(keys).reset_index(drop=True)
        if not a[keys].astype(str).equals(b[keys].astype(str)):
            return False
        return all(_same(a[c], b[c]) for c in CELL_COLUMNS)

    def shows_same(self, other: Release) -> bool:
        """True when both releases publish the same values at the same cells (e.g. a table
        read back from the portal and the release the pipeline recorded for it)."""
        if self.table != other.table or sorted(self.dims) != sorted(other.dims):
            return False
        keys = sorted(self.dims)
        a = self.cells.sort_values(keys).reset_index(drop=True)
        b = other.cells.sort_values(keys).reset_index(drop=True)
        same_cells = a[keys].astype(str).equals(b[keys].astype(str))
        return same_cells and _same(a["shown"], b["shown"])

    def fingerprint(self) -> str:
        """A hash of the release's content (not of its serialized form): equal releases hash
        equal however they were stored and read back."""
        import hashlib

        keys = list(self.dims)
        cells = self.cells.sort_values(keys, kind="stable").reset_index(drop=True)
        h = hashlib.sha256()
        header = [self.table, self.snapshot, self.seq, self.kind, keys, self.threshold,
                  self.hierarchy]  # fmt: skip
        h.update(json.dumps(header, sort_keys=True).encode())
        for dim in keys:
            h.update("\x1f".join(cells[dim].astype(str)).encode())
        for column in CELL_COLUMNS:
            h.update(np.ascontiguousarray(cells[column].to_numpy(dtype=np.float64)).tobytes())
        return h.hexdigest()

    def to_bytes(self) -> bytes:
        """Parquet with the release's header in its metadata (kept in the state store)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        header = {
            "table": self.table,
            "snapshot": self.snapshot,
            "seq": self.seq,
            "kind": self.kind,
            "dims": self.dims,
            "threshold": self.threshold,
            "hierarchy": self.hierarchy,
        }
        frame = self.cells.copy()
        for dim in self.dims:
            frame[dim] = frame[dim].astype(str)
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        arrow = arrow.replace_schema_metadata({b"ctdata.release": json.dumps(header).encode()})
        buffer = io.BytesIO()
        pq.write_table(arrow, buffer, compression="zstd")
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Release:
        import pyarrow.parquet as pq

        arrow = pq.read_table(io.BytesIO(data))
        header = json.loads(arrow.schema.metadata[b"ctdata.release"])
        cells = arrow.to_pandas()
        return cls(
            header["table"], header["snapshot"], int(header["seq"]), header["kind"],
            list(header["dims"]), cells, int(header["threshold"]), header["hierarchy"] or {},
        )  # fmt: skip


def _same(a: pd.Series, b: pd.Series) -> bool:
    x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    both_nan = np.isnan(x) & np.isnan(y)
    return bool(np.all(both_nan | (x == y)))


def canonical_cells(
    cube: pd.DataFrame, dims: list[str], total_label: str, truth: np.ndarray
) -> pd.DataFrame:
    """The cube's dimension labels as text with the table's total renamed to ALL, and its true
    counts; `shown`, `low` and `high` are filled in by whoever decides what is published."""
    cells = pd.DataFrame({d: cube[d].astype(str).replace(total_label, ALL) for d in dims})
    cells["truth"] = np.asarray(truth, dtype=float)
    cells["shown"] = np.nan
    cells["low"] = 0.0
    cells["high"] = INF
    return cells.reset_index(drop=True)


def canonical_hierarchy(
    hierarchy: dict[str, dict[str, str]] | None, total_label: str
) -> dict[str, dict[str, str]]:
    """A spec's child -> parent maps with the total renamed to ALL."""
    out: dict[str, dict[str, str]] = {}
    for dim, mapping in (hierarchy or {}).items():
        out[dim] = {
            (ALL if c == total_label else c): (ALL if p == total_label else p)
            for c, p in mapping.items()
        }
    return out


def describe_key(key: dict[str, str]) -> str:
    """A cell's labels for people: 'year=2012, sex=Male' (margins named 'all')."""
    shown = [f"{d}={'all' if v == ALL else v}" for d, v in key.items()]
    return ", ".join(shown) or "the grand total"
