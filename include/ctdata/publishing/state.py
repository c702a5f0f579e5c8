"""The state store: published-row fingerprints and the run ledger (SQLAlchemy 2).

SQLite (WAL) by default, PostgreSQL in production; only portable SQL is used. Fingerprints are
64-bit hashes: a key identifies a row (hash of its row identifier, or of its whole content for
datasets without one), a row hash is the hash of the published JSON and a count says how many
copies the portal holds (1 for keyed rows, 0 marks a deletion).

They are stored as an append-only log of segments, one per acknowledged chunk (numpy arrays
packed in BLOBs), so recording a 10,000-row chunk is one INSERT and loading a million
fingerprints takes well under a second; later segments override earlier ones and `compact`
rewrites the log when it has grown. After each run a snapshot of the merged fingerprints is
stored, so the next load reads one row plus the few segments written since. A running count
of live rows per dataset answers `count`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from ctdata import settings, store
from ctdata.publishing.ledger import RunLedger, metadata, utc_now
from ctdata.publishing.segments import (
    Fingerprints,
    Segment,
    concat,
    decode,
    encode,
    id_at,
    overlay,
)
from ctdata.store import redacted

segments = Table(
    "publish_segments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", String(16), nullable=False, index=True),
    Column("rows", Integer, nullable=False),
    Column("key_hashes", LargeBinary, nullable=False),
    Column("row_hashes", LargeBinary, nullable=False),
    Column("copies", LargeBinary, nullable=False),
    Column("row_ids", LargeBinary, nullable=True),
)

datasets = Table(
    "publish_datasets",
    metadata,
    Column("dataset_id", String(16), primary_key=True),
    Column("key_kind", Text, nullable=False),
    Column("live_rows", BigInteger, nullable=False, default=0),
    Column("last_reconciled", DateTime(timezone=True), nullable=True),
)

snapshots = Table(
    "publish_snapshots",
    metadata,
    Column("dataset_id", String(16), primary_key=True),
    Column("upto_segment", Integer, nullable=False),
    Column("key_hashes", LargeBinary, nullable=False),
    Column("row_hashes", LargeBinary, nullable=False),
    Column("copies", LargeBinary, nullable=False),
)

_SEGMENT_ROWS = 100_000


class StateStore(RunLedger):
    """Fingerprints and run ledger; creates its tables on first use."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or settings.current().state_url
        self.engine: Engine = store.engine(self.url)
        store.ensure_tables(metadata, self.engine)

    def __repr__(self) -> str:
        return f"StateStore({redacted(self.url)!r})"

    def dispose(self) -> None:
        store.release(self.url)

    # -- fingerprints ------------------------------------------------------------------------

    def _segments(
        self, dataset_id: str, *, ids: bool = False, after: int = 0
    ) -> Iterator[tuple[int, Segment]]:
        cols = [segments.c.id, segments.c.key_hashes, segments.c.row_hashes, segments.c.copies]
        if ids:
            cols.append(segments.c.row_ids)
        query = (
            select(*cols)
            .where(segments.c.dataset_id == dataset_id, segments.c.id > after)
            .order_by(segments.c.id)
        )
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=8).execute(query):
                yield int(row[0]), decode(row, ids)

    def _merged(self, dataset_id: str) -> tuple[Fingerprints, list[int], list[np.ndarray]]:
        """Live fingerprints plus, per segment, which positions still hold a live value."""
        seg_ids: list[int] = []
        parts: list[Segment] = []
        for seg_id, seg in self._segments(dataset_id):
            seg_ids.append(seg_id)
            parts.append(seg)
        if not parts:
            return Fingerprints.empty(), [], []
        keys = np.concatenate([p.keys for p in parts])
        total = len(keys)
        # The last write of a key wins: after a stable sort it is the last of its run.
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        last = np.empty(total, bool)
        last[:-1] = keys[1:] != keys[:-1]
        last[-1] = True
        uniq = keys[last]
        del keys
        winner = order[last]
        del order, last
        counts = np.concatenate([p.counts for p in parts])[winner]
        live = counts > 0
        winner, counts, uniq = winner[live], counts[live], uniq[live]
        hashes = np.concatenate([p.hashes for p in parts])[winner]
        fp = Fingerprints(uniq, hashes, counts)
        keep = np.zeros(total, bool)
        keep[winner] = True
        bounds = np.cumsum([0] + [len(p) for p in parts])
        return fp, seg_ids, [keep[bounds[i] : bounds[i + 1]] for i in range(len(parts))]

    def load(self, dataset_id: str) -> Fingerprints:
        """All live fingerprints of a dataset, sorted by key: the snapshot plus later segments."""
        with self.engine.connect() as conn:
            snap = conn.execute(
                select(snapshots).where(snapshots.c.dataset_id == dataset_id)
            ).first()
        if snap is None:
            return self._merged(dataset_id)[0]
        base = Fingerprints(
            np.frombuffer(snap.key_hashes, np.uint64),
            np.frombuffer(snap.row_hashes, np.uint64),
            np.frombuffer(snap.copies, np.int64),
        )
        later = [seg for _, seg in self._segments(dataset_id, after=snap.upto_segment)]
        return overlay(base, later) if later else base

    def snapshot(self, dataset_id: str, *, min_new_segments: int = 1) -> bool:
        """Store the merged fingerprints so the next load reads one row; True if it did."""
        with self.engine.connect() as conn:
            done = conn.execute(
                select(snapshots.c.upto_segment).where(snapshots.c.dataset_id == dataset_id)
            ).scalar_one_or_none()
            upto, newer = conn.execute(
                select(func.max(segments.c.id), func.count()).where(
                    segments.c.dataset_id == dataset_id, segments.c.id > (done or 0)
                )
            ).one()
        if upto is None or newer < min_new_segments:
            return False
        fp = self.load(dataset_id)
        with self.engine.begin() as conn:
            conn.execute(delete(snapshots).where(snapshots.c.dataset_id == dataset_id))
            conn.execute(
                insert(snapshots).values(
                    dataset_id=dataset_id,
                    upto_segment=int(upto),
                    key_hashes=memoryview(np.ascontiguousarray(fp.keys)).cast("B"),
                    row_hashes=memoryview(np.ascontiguousarray(fp.rows)).cast("B"),
                    copies=memoryview(np.ascontiguousarray(fp.counts, np.int64)).cast("B"),
                )
            )
        return True

    def count(self, dataset_id: str) -> int:
        """Rows the fingerprints say the portal holds (kept as a running total)."""
        query = select(datasets.c.live_rows).where(datasets.c.dataset_id == dataset_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one_or_none() or 0)

    def row_ids(self, dataset_id: str, keys: Sequence[int] | np.ndarray) -> dict[int, str | None]:
        """Row identifiers (as published) of the given keys, from their latest segment."""
        wanted = np.unique(np.asarray(keys, dtype=np.uint64))
        found: dict[int, str | None] = {}
        if not len(wanted):
            return found
        query = (
            select(segments.c.key_hashes, segments.c.copies, segments.c.row_ids)
            .where(segments.c.dataset_id == dataset_id)
            .order_by(segments.c.id)
        )
        with self.engine.connect() as conn:
            for raw_keys, raw_counts, raw_ids in conn.execution_options(yield_per=8).execute(query):
                seg_keys = np.frombuffer(raw_keys, np.uint64)
                pos = np.minimum(np.searchsorted(wanted, seg_keys), len(wanted) - 1)
                hits = np.flatnonzero(wanted[pos] == seg_keys)
                if not len(hits):
                    continue
                counts = np.frombuffer(raw_counts, np.int64)
                for i in hits.tolist():
                    key = int(seg_keys[i])
                    if counts[i] > 0 and raw_ids is not None:
                        found[key] = id_at(raw_ids, i)
                    else:
                        found.pop(key, None)
        return found

    def apply(self, dataset_id: str, segment: Segment, live_delta: int, key_kind: str) -> None:
        """Record one acknowledged chunk; `live_delta` is its change to the portal's row count."""
        with self.engine.begin() as conn:
            if len(segment):
                conn.execute(insert(segments), [encode(dataset_id, segment)])
            self._set_dataset(conn, dataset_id, key_kind=key_kind, delta=live_delta)

    def replace_all(self, dataset_id: str, parts: Iterable[Segment], key_kind: str) -> None:
        """Forget a dataset's fingerprints and store these instead (after a portal read-back)."""
        total = 0
        with self.engine.begin() as conn:
            conn.execute(delete(snapshots).where(snapshots.c.dataset_id == dataset_id))
            conn.execute(delete(segments).where(segments.c.dataset_id == dataset_id))
            for part in parts:
                if len(part):
                    conn.execute(insert(segments), [encode(dataset_id, part)])
                    total += int(np.asarray(part.counts).sum())
            self._set_dataset(conn, dataset_id, key_kind=key_kind, live=total)

    def compact(self, dataset_id: str, *, min_segments: int = 2000) -> bool:
        """Rewrite the log as few large segments when it has grown; True if it did."""
        query = select(func.count(), func.coalesce(func.sum(segments.c.rows), 0)).where(
            segments.c.dataset_id == dataset_id
        )
        with self.engine.connect() as conn:
            n_segments, n_rows = conn.execute(query).one()
        if n_segments < 2:
            return False
        if n_segments < min_segments and n_rows <= 2 * self.count(dataset_id) + _SEGMENT_ROWS:
            return False
        fp, seg_ids, keeps = self._merged(dataset_id)
        del fp
        keep_by_id = dict(zip(seg_ids, keeps, strict=True))
        max_id = max(seg_ids)
        compacted: list[Segment] = []
        buf: list[Segment] = []
        size = 0
        for seg_id, seg in self._segments(dataset_id, ids=True):
            if seg_id > max_id:
                break
            keep = np.flatnonzero(keep_by_id[seg_id])
            if len(keep):
                ids = seg.row_ids.take(pa.array(keep)) if seg.row_ids is not None else None
                buf.append(Segment(seg.keys[keep], seg.hashes[keep], seg.counts[keep], ids))
                size += len(keep)
            if size >= _SEGMENT_ROWS:
                compacted.append(concat(buf))
                buf, size = [], 0
        if buf:
            compacted.append(concat(buf))
        with self.engine.begin() as conn:
            conn.execute(delete(snapshots).where(snapshots.c.dataset_id == dataset_id))
            conn.execute(
                delete(segments).where(segments.c.dataset_id == dataset_id, segments.c.id <= max_id)
            )
            for part in compacted:
                conn.execute(insert(segments), [encode(dataset_id, part)])
        return True

    def clear(self, dataset_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(snapshots).where(snapshots.c.dataset_id == dataset_id))
            conn.execute(delete(segments).where(segments.c.dataset_id == dataset_id))
            conn.execute(delete(datasets).where(datasets.c.dataset_id == dataset_id))

    # -- dataset bookkeeping -----------------------------------------------------------------

    def key_kind(self, dataset_id: str) -> str | None:
        """How the stored fingerprints are keyed ("row_id:<field>" or "content")."""
        with self.engine.connect() as conn:
            query = select(datasets.c.key_kind).where(datasets.c.dataset_id == dataset_id)
            return conn.execute(query).scalar_one_or_none()

    def reconcile_due(self, dataset_id: str, every: timedelta = timedelta(days=7)) -> bool:
        """True when the dataset was never reconciled or not within `every` (weekly default)."""
        with self.engine.connect() as conn:
            query = select(datasets.c.last_reconciled).where(datasets.c.dataset_id == dataset_id)
            last = conn.execute(query).scalar_one_or_none()
        if last is None:
            return True
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        return utc_now() - last >= every

    def mark_reconciled(self, dataset_id: str, key_kind: str) -> None:
        with self.engine.begin() as conn:
            self._set_dataset(conn, dataset_id, key_kind=key_kind, reconciled=utc_now())

    @staticmethod
    def _set_dataset(
        conn: Any,
        dataset_id: str,
        *,
        key_kind: str,
        reconciled: datetime | None = None,
        live: int | None = None,
        delta: int = 0,
    ) -> None:
        values: dict[str, Any] = {"key_kind": key_kind}
        if reconciled is not None:
            values["last_reconciled"] = reconciled
        if live is not None:
            values["live_rows"] = live
        elif delta:
            values["live_rows"] = datasets.c.live_rows + delta
        done = conn.execute(
            update(datasets).where(datasets.c.dataset_id == dataset_id).values(**values)
        )
        if done.rowcount == 0:
            values["live_rows"] = live if live is not None else max(delta, 0)
            conn.execute(insert(datasets).values(dataset_id=dataset_id, **values))
