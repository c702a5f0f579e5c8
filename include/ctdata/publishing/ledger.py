"""The run ledger: one row per publication (method, start, end, status, counts, message).

Read by `StateStore.last_runs()` (what happened lately) and by the publisher, which reads the
portal back after an interrupted append (a run whose status is not "succeeded").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

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


def utc_now() -> datetime:
    return datetime.now(UTC)


class RunLedger:
    """The ledger's queries; mixed into StateStore, which owns the engine."""

    engine: Engine

    def start_run(self, dataset_id: str, method: str) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(runs).values(
                    dataset_id=dataset_id, method=method, started=utc_now(), status="running"
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
                    finished=utc_now(),
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
