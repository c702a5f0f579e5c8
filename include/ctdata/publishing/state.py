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

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
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

from ctdata import settings
from ctdata.store import create_store_engine, redacted

metadata = MetaData()

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

runs = Table(
    "publish_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", String(16), nullable=False, index=True),
    Column("method", String(16), nullable=False),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False),
    Column("counts", Text, nullable=True),
    Column("message", Text, nullable=True),
)

_SEGMENT_ROWS = 100_000


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Segment:
    """Fingerprints of one acknowledged chunk (count 0 records a deleted key)."""

    keys: np.ndarray  # uint64
    hashes: np.ndarray  # uint64
    counts: np.ndarray  # int64
    row_ids: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.keys)


@dataclass
class Fingerprints:
    """A dataset's live fingerprints as arrays sorted by key (24 bytes a row)."""

    keys: np.ndarray  # uint64, sorted
    rows: np.ndarray  # uint64
    counts: np.ndarray  # int64

    @classmethod
    def empty(cls) -> Fingerprints:
        return cls(np.empty(0, np.uint64), np.empty(0, np.uint64), np.empty(0, np.int64))

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def total(self) -> int:
        return int(self.counts.sum())


def _encode(dataset_id: str, seg: Segment) -> dict[str, Any]:
    return {
        "dataset_id": dataset_id,
        "rows": len(seg),
        "key_hashes": np.ascontiguousarray(seg.keys, np.uint64).tobytes(),
        "row_hashes": np.ascontiguousarray(seg.hashes, np.uint64).tobytes(),
        "copies": np.ascontiguousarray(seg.counts, np.int64).tobytes(),
        "row_ids": None if seg.row_ids is None else _pack_ids(seg.row_ids),
    }


def _decode(row: Any, ids: bool) -> Segment:
    return Segment(
        np.frombuffer(row[1], np.uint64),
        np.frombuffer(row[2], np.uint64),
        np.frombuffer(row[3], np.int64),
        _unpack_ids(row[4]) if ids and row[4] is not None else None,
    )


def _pack_ids(ids: list[str | None]) -> bytes:
    """Row identifiers as count, offsets and UTF-8 bytes, so one can be read without the rest."""
    data = [b"" if i is None else i.encode() for i in ids]
    offsets = np.zeros(len(data) + 1, np.int64)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return np.int64(len(data)).tobytes() + offsets.tobytes() + b"".join(data)


def _id_at(blob: bytes, i: int) -> str:
    n = int(np.frombuffer(blob, np.int64, 1)[0])
    start, stop = np.frombuffer(blob, np.int64, 2, offset=8 * (1 + i))
    base = 8 * (n + 2)
    return blob[base + int(start) : base + int(stop)].decode()


def _unpack_ids(blob: bytes) -> list[str | None]:
    n = int(np.frombuffer(blob, np.int64, 1)[0])
    offsets = np.frombuffer(blob, np.int64, n + 1, offset=8).tolist()
    data = blob[8 * (n + 2) :]
    return [data[a:b].decode() for a, b in zip(offsets[:-1], offsets[1:], strict=True)]


def _overlay(base: Fingerprints, later: list[Segment]) -> Fingerprints:
    """Apply segments newer than a snapshot: later writes win, count 0 removes the key."""
    keys = np.concatenate([s.keys for s in later])
    hashes = np.concatenate([s.hashes for s in later])
    counts = np.concatenate([s.counts for s in later])
    uniq, first = np.unique(keys[::-1], return_index=True)
    last = len(keys) - 1 - first
    new_rows, new_counts = hashes[last], counts[last]
    pos = np.searchsorted(base.keys, uniq)
    present = (pos < len(base.keys)) & (base.keys[np.minimum(pos, max(len(base) - 1, 0))] == uniq)
    if not len(base):
        present = np.zeros(len(uniq), bool)
    rows = base.rows.copy()
    copies = base.counts.copy()
    rows[pos[present]] = new_rows[present]
    copies[pos[present]] = new_counts[present]
    add = ~present & (new_counts > 0)
    merged_keys = np.concatenate([base.keys, uniq[add]])
    merged_rows = np.concatenate([rows, new_rows[add]])
    merged_counts = np.concatenate([copies, new_counts[add]])
    order = np.argsort(merged_keys, kind="stable") if add.any() else None
    if order is not None:
        merged_keys, merged_rows, merged_counts = (
            merged_keys[order],
            merged_rows[order],
            merged_counts[order],
        )
    live = merged_counts > 0
    if live.all():
        return Fingerprints(merged_keys, merged_rows, merged_counts)
    return Fingerprints(merged_keys[live], merged_rows[live], merged_counts[live])


def _concat(parts: list[Segment]) -> Segment:
    ids = None
    if all(p.row_ids is not None for p in parts):
        ids = [i for p in parts for i in (p.row_ids or [])]
    return Segment(
        np.concatenate([p.keys for p in parts]),
        np.concatenate([p.hashes for p in parts]),
        np.concatenate([p.counts for p in parts]),
        ids,
    )


class StateStore:
    """Fingerprints and run ledger; creates its tables on first use."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or settings.state_url()
        self.engine: Engine = create_store_engine(self.url)
        metadata.create_all(self.engine)

    def __repr__(self) -> str:
        return f"StateStore({redacted(self.url)!r})"

    def dispose(self) -> None:
        self.engine.dispose()

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
                yield int(row[0]), _decode(row, ids)

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
        return _overlay(base, later) if later else base

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
                        found[key] = _id_at(raw_ids, i)
                    else:
                        found.pop(key, None)
        return found

    def apply(self, dataset_id: str, segment: Segment, live_delta: int, key_kind: str) -> None:
        """Record one acknowledged chunk; `live_delta` is its change to the portal's row count."""
        with self.engine.begin() as conn:
            if len(segment):
                conn.execute(insert(segments), [_encode(dataset_id, segment)])
            self._set_dataset(conn, dataset_id, key_kind=key_kind, delta=live_delta)

    def replace_all(self, dataset_id: str, parts: Iterable[Segment], key_kind: str) -> None:
        """Forget a dataset's fingerprints and store these instead (after a portal read-back)."""
        total = 0
        with self.engine.begin() as conn:
            conn.execute(delete(snapshots).where(snapshots.c.dataset_id == dataset_id))
            conn.execute(delete(segments).where(segments.c.dataset_id == dataset_id))
            for part in parts:
                if len(part):
                    conn.execute(insert(segments), [_encode(dataset_id, part)])
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
                ids = [seg.row_ids[i] for i in keep.tolist()] if seg.row_ids is not None else None
                buf.append(Segment(seg.keys[keep], seg.hashes[keep], seg.counts[keep], ids))
                size += len(keep)
            if size >= _SEGMENT_ROWS:
                compacted.append(_concat(buf))
                buf, size = [], 0
        if buf:
            compacted.append(_concat(buf))
        with self.engine.begin() as conn:
            conn.execute(delete(snapshots).where(snapshots.c.dataset_id == dataset_id))
            conn.execute(
                delete(segments).where(segments.c.dataset_id == dataset_id, segments.c.id <= max_id)
            )
            for part in compacted:
                conn.execute(insert(segments), [_encode(dataset_id, part)])
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
        return _now() - last >= every

    def mark_reconciled(self, dataset_id: str, key_kind: str) -> None:
        with self.engine.begin() as conn:
            self._set_dataset(conn, dataset_id, key_kind=key_kind, reconciled=_now())

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

    # -- run ledger --------------------------------------------------------------------------

    def start_run(self, dataset_id: str, method: str) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(runs).values(
                    dataset_id=dataset_id, method=method, started=_now(), status="running"
                )
            )
            return int(result.inserted_primary_key[0])

    def finish_run(
        self, run_id: int, status: str, counts: dict[str, Any] | None = None, message: str = ""
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    finished=_now(),
                    status=status,
                    counts=json.dumps(counts or {}),
                    message=message[:2000],
                )
            )

    def previous_run(self, dataset_id: str, before: int) -> dict[str, Any] | None:
        """The run of this dataset just before run `before` (to spot an interrupted one)."""
        query = (
            select(runs)
            .where(runs.c.dataset_id == dataset_id, runs.c.id < before)
            .order_by(runs.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _run_dict(row) if row else None

    def last_success(self, dataset_id: str) -> datetime | None:
        """When the latest publish of the dataset that reached the portal started (UTC)."""
        query = select(func.max(runs.c.started)).where(
            runs.c.dataset_id == dataset_id, runs.c.status.in_(("succeeded", "unverified"))
        )
        with self.engine.connect() as conn:
            started = conn.execute(query).scalar()
        if started is None:
            return None
        return started if started.tzinfo else started.replace(tzinfo=UTC)

    def last_runs(self, dataset_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Latest runs first: dataset_id, method, started, finished, status, counts, message."""
        query = select(runs).order_by(runs.c.id.desc()).limit(limit)
        if dataset_id:
            query = query.where(runs.c.dataset_id == dataset_id)
        with self.engine.connect() as conn:
            return [_run_dict(row) for row in conn.execute(query).mappings()]


def _run_dict(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["counts"] = json.loads(out["counts"]) if out.get("counts") else {}
    return out
