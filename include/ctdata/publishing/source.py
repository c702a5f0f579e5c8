"""What is published where: the Parquet source read batch by batch in canonical form, and the
target dataset with how its rows are keyed."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ctdata.portal.schema import PortalColumn
from ctdata.publishing import canonical as canon
from ctdata.publishing.fingerprints import (
    column_hash,
    column_hashes,
    combine,
)

SCAN_BATCH = 65_536  # rows typed and hashed at a time in pass 1 (memory ~ 20 MB at 20 columns)


@contextmanager
def open_parquet(path: Any) -> Iterator[pq.ParquetFile]:
    """A local path, or anything with `.open("rb")` (Airflow's ObjectStoragePath).

    Without pre-buffering: its read cache keeps every row group read so far (about 32 MB a
    million rows at 20 columns), which would make memory grow with the file.
    """
    if isinstance(path, str | os.PathLike) and not hasattr(path, "protocol"):
        with pq.ParquetFile(os.fspath(path), pre_buffer=False) as pf:
            yield pf
        return
    with path.open("rb") as fh, pq.ParquetFile(fh, pre_buffer=False) as pf:
        yield pf


@dataclass
class TypedBatch:
    """One batch of source rows with its canonical arrays, row hashes and (keyed) key hashes."""

    first: int  # position of the batch's first row in the file
    raw: pa.RecordBatch
    arrays: dict[str, pa.Array]
    hashes: np.ndarray | None  # None when not asked for (nothing to compare them with)
    keys: np.ndarray | None


@dataclass
class SourceFile:
    """The Parquet file, read batch by batch in canonical form."""

    pf: pq.ParquetFile
    columns: list[PortalColumn]
    row_id: PortalColumn | None
    batch_rows: int

    @property
    def num_rows(self) -> int:
        return int(self.pf.metadata.num_rows)

    def raw_batches(self, batch_rows: int | None = None) -> Iterator[tuple[int, pa.RecordBatch]]:
        first = 0
        names = [c.field_name for c in self.columns]
        for batch in self.pf.iter_batches(batch_size=batch_rows or self.batch_rows, columns=names):
            yield first, batch
            first += batch.num_rows

    def typed(
        self,
        batch: pa.RecordBatch,
        first: int,
        problems: canon.TypeProblems | None = None,
        *,
        row_hashes: bool = True,
    ) -> TypedBatch:
        """A batch in canonical form with its fingerprints; misfits are noted in `problems`.
        Without `row_hashes` only the row identifier is hashed (a first publish compares no
        rows, so pass 1 skips most of the hashing)."""
        arrays = {
            c.field_name: canon.canonicalize(batch.column(i), c, first_row=first, problems=problems)
            for i, c in enumerate(self.columns)
        }
        if row_hashes or self.row_id is None:
            return TypedBatch(first, batch, arrays, *self.fingerprint(arrays))
        keys = column_hash(arrays[self.row_id.field_name], self.row_id)
        return TypedBatch(first, batch, arrays, None, keys)

    def fingerprint(self, arrays: dict[str, pa.Array]) -> tuple[np.ndarray, np.ndarray | None]:
        """Row hashes and (keyed) key hashes of canonical arrays, each column hashed once."""
        by_column = column_hashes(arrays, self.columns)
        keys = by_column[self.row_id.field_name] if self.row_id is not None else None
        return combine(by_column, self.columns), keys

    def typed_batches(
        self, problems: canon.TypeProblems, *, row_hashes: bool = True
    ) -> Iterator[TypedBatch]:
        """Every batch typed and hashed by two threads (Arrow and numpy release the GIL), in
        file order."""
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="publish-scan") as pool:
            window: deque[Future[TypedBatch]] = deque()
            for first, batch in self.raw_batches(SCAN_BATCH):
                job = pool.submit(self.typed, batch, first, problems, row_hashes=row_hashes)
                window.append(job)
                if len(window) >= 3:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()

    def key_hashes(self) -> Iterator[tuple[int, np.ndarray]]:
        """The row identifier's hash of every row, batch by batch (rare paths: error messages)."""
        rid = self.row_id
        assert rid is not None
        for first, batch in self.raw_batches(SCAN_BATCH):
            keys = column_hash(canon.canonicalize(batch.column(rid.field_name), rid), rid)
            yield first, keys

    def rows_at(self, positions: np.ndarray, limit: int = 3) -> list[tuple[int, dict[str, Any]]]:
        """A few raw source rows (1-based row numbers) for error messages."""
        wanted = np.sort(np.asarray(positions, dtype=np.int64))[:limit]
        out: list[tuple[int, dict[str, Any]]] = []
        for first, batch in self.raw_batches():
            local = wanted[(wanted >= first) & (wanted < first + batch.num_rows)] - first
            for pos in local.tolist():
                out.append((first + pos + 1, batch.slice(pos, 1).to_pylist()[0]))
            if len(out) >= len(wanted):
                break
        return out


@dataclass(frozen=True)
class Target:
    """The dataset a source is published to, and how rows are matched with the portal's."""

    dataset_id: str
    method: str
    source: SourceFile
    portal_fields: frozenset[str]

    @property
    def keyed(self) -> bool:
        """Rows matched by row identifier (else by their whole content and a count)."""
        return self.source.row_id is not None

    @property
    def key_kind(self) -> str:
        """How the state store's fingerprints are keyed ("row_id:<field>" or "content"); a
        stored kind that differs means a read-back."""
        rid = self.source.row_id
        return f"row_id:{rid.field_name}" if rid is not None else "content"

    def describe(self) -> str:
        rid = self.source.row_id
        keyed = f"rows matched by {rid.field_name}" if rid else "rows matched by their content"
        return f"dataset {self.dataset_id} ({self.method}, {keyed})"


def short(row: dict[str, Any], limit: int = 8) -> str:
    """A source row in one line for error messages."""
    items = list(row.items())
    text = ", ".join(f"{k}={v!r}" for k, v in items[:limit])
    return text + (", ..." if len(items) > limit else "")
