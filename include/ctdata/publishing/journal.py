"""The publisher's journal: one entry per publish attempt (method, start, end, status,
counts, message), opened before anything is sent and closed when the attempt ends.

Read by `journal_entries()` (what happened lately) and by the publisher, which reads the portal
back after an interrupted append (an entry whose status is not "succeeded"). Not to be confused
with the monitoring ledger (`ctdata.monitoring.ledger`), which records a dataset's whole run.
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

entries = Table(
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


class PublishJournal:
    """The journal's queries; mixed into the publishing state, which owns the engine."""

    engine: Engine

    def open_entry(self, dataset_id: str, method: str) -> int:
        """A publish attempt begins; returns its entry id."""
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(entries).values(
                    dataset_id=dataset_id, method=method, started=utc_now(), status="running"
                )
            )
            return int(result.inserted_primary_key[0])

    def close_entry(
        self, entry_id: int, status: str, counts: dict[str, Any] | None = None, message: str = ""
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(entries)
                .where(entries.c.id == entry_id)
                .values(
                    finished=utc_now(),
                    status=status,
                    counts=json.dumps(counts or {}),
                    message=message[:2000],
                )
            )

    def previous_entry(self, dataset_id: str, before: int) -> dict[str, Any] | None:
        """The dataset's entry just before entry `before` (to spot an interrupted attempt)."""
        query = (
            select(entries)
            .where(entries.c.dataset_id == dataset_id, entries.c.id < before)
            .order_by(entries.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _entry_dict(row) if row else None

    def journal_entries(
        self, dataset_id: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Latest entries first: dataset_id, method, started, finished, status, counts, message."""
        query = select(entries).order_by(entries.c.id.desc()).limit(limit)
        if dataset_id:
            query = query.where(entries.c.dataset_id == dataset_id)
        with self.engine.connect() as conn:
            return [_entry_dict(row) for row in conn.execute(query).mappings()]


def _entry_dict(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["counts"] = json.loads(out["counts"]) if out.get("counts") else {}
    return out
