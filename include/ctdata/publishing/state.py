"""The state store: published-row fingerprints and the run ledger (SQLAlchemy 2).

SQLite (WAL) by default, PostgreSQL in production; only portable SQL is used. Fingerprints are
64-bit hashes kept as signed BIGINTs: `key_hash` identifies a row (hash of its row identifier,
or of its whole content for datasets without one), `row_hash` is the hash of the published JSON
and `count` how many copies the portal holds (always 1 for keyed rows).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url

from ctdata import settings

metadata = MetaData()

fingerprints = Table(
    "publish_fingerprints",
    metadata,
    Column("dataset_id", String(16), primary_key=True),
    Column("key_hash", BigInteger, primary_key=True, autoincrement=False),
    Column("row_id", Text, nullable=True),
    Column("row_hash", BigInteger, nullable=False),
    Column("count", Integer, nullable=False, default=1),
)

datasets = Table(
    "publish_datasets",
    metadata,
    Column("dataset_id", String(16), primary_key=True),
    Column("key_kind", Text, nullable=False),
    Column("last_reconciled", DateTime(timezone=True), nullable=True),
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

_BATCH = 20_000


def _now() -> datetime:
    return datetime.now(UTC)


def to_signed(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.uint64).view(np.int64)


def to_unsigned(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int64).view(np.uint64)


@dataclass
class Fingerprints:
    """A dataset's fingerprints as sorted arrays (memory: 24 bytes a row)."""

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


@dataclass(frozen=True)
class FingerprintRow:
    key_hash: int  # unsigned 64-bit
    row_id: str | None
    row_hash: int
    count: int = 1


class StateStore:
    """Fingerprints and run ledger; creates its tables on first use."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or settings.state_url()
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(self.url, future=True)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)

    def __repr__(self) -> str:
        return f"StateStore({make_url(self.url).render_as_string(hide_password=True)!r})"

    def dispose(self) -> None:
        self.engine.dispose()

    # -- fingerprints ------------------------------------------------------------------------

    def load(self, dataset_id: str) -> Fingerprints:
        """All fingerprints of a dataset, streamed into numpy arrays sorted by key."""
        query = select(
            fingerprints.c.key_hash, fingerprints.c.row_hash, fingerprints.c.count
        ).where(fingerprints.c.dataset_id == dataset_id)
        parts: list[np.ndarray] = []
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=_BATCH).execute(query)
            for part in result.partitions():
                parts.append(np.array(part, dtype=np.int64).reshape(-1, 3))
        if not parts:
            return Fingerprints.empty()
        table = np.concatenate(parts)
        order = np.argsort(to_unsigned(table[:, 0]), kind="stable")
        table = table[order]
        return Fingerprints(
            to_unsigned(table[:, 0]), to_unsigned(table[:, 1]), np.ascontiguousarray(table[:, 2])
        )

    def count(self, dataset_id: str) -> int:
        """Rows the fingerprints say the portal holds."""
        query = select(func.coalesce(func.sum(fingerprints.c.count), 0)).where(
            fingerprints.c.dataset_id == dataset_id
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def row_ids(self, dataset_id: str, keys: Sequence[int]) -> dict[int, str | None]:
        """Row identifiers (as published) of the given keys."""
        found: dict[int, str | None] = {}
        signed = to_signed(np.asarray(keys, dtype=np.uint64)).tolist()
        with self.engine.connect() as conn:
            for start in range(0, len(signed), 500):
                part = signed[start : start + 500]
                query = select(fingerprints.c.key_hash, fingerprints.c.row_id).where(
                    fingerprints.c.dataset_id == dataset_id, fingerprints.c.key_hash.in_(part)
                )
                for key, row_id in conn.execute(query):
                    found[int(np.int64(key).view(np.uint64))] = row_id
        return found

    def apply(
        self, dataset_id: str, upserts: Iterable[FingerprintRow], deletes: Sequence[int] = ()
    ) -> None:
        """Record one acknowledged chunk: write its rows' fingerprints, drop deleted ones."""
        rows = list(upserts)
        with self.engine.begin() as conn:
            drop = [r.key_hash for r in rows] + list(deletes)
            self._delete_keys(conn, dataset_id, drop)
            self._insert(conn, dataset_id, rows)

    def replace_all(self, dataset_id: str, rows: Iterable[FingerprintRow], key_kind: str) -> None:
        """Forget a dataset's fingerprints and store these instead (after a portal read-back)."""
        with self.engine.begin() as conn:
            conn.execute(delete(fingerprints).where(fingerprints.c.dataset_id == dataset_id))
            batch: list[FingerprintRow] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= _BATCH:
                    self._insert(conn, dataset_id, batch)
                    batch = []
            self._insert(conn, dataset_id, batch)
            self._set_dataset(conn, dataset_id, key_kind=key_kind)

    def clear(self, dataset_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(fingerprints).where(fingerprints.c.dataset_id == dataset_id))

    @staticmethod
    def _delete_keys(conn: Any, dataset_id: str, keys: Sequence[int]) -> None:
        signed = to_signed(np.asarray(keys, dtype=np.uint64)).tolist()
        for start in range(0, len(signed), 500):
            conn.execute(
                delete(fingerprints).where(
                    fingerprints.c.dataset_id == dataset_id,
                    fingerprints.c.key_hash.in_(signed[start : start + 500]),
                )
            )

    @staticmethod
    def _insert(conn: Any, dataset_id: str, rows: Sequence[FingerprintRow]) -> None:
        if not rows:
            return
        keys = to_signed(np.fromiter((r.key_hash for r in rows), np.uint64, len(rows))).tolist()
        hashes = to_signed(np.fromiter((r.row_hash for r in rows), np.uint64, len(rows))).tolist()
        params = [
            {
                "dataset_id": dataset_id,
                "key_hash": k,
                "row_id": r.row_id,
                "row_hash": h,
                "count": r.count,
            }
            for k, h, r in zip(keys, hashes, rows, strict=True)
        ]
        conn.execute(insert(fingerprints), params)

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
        conn: Any, dataset_id: str, *, key_kind: str, reconciled: datetime | None = None
    ) -> None:
        values: dict[str, Any] = {"key_kind": key_kind}
        if reconciled is not None:
            values["last_reconciled"] = reconciled
        done = conn.execute(
            update(datasets).where(datasets.c.dataset_id == dataset_id).values(**values)
        )
        if done.rowcount == 0:
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


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
