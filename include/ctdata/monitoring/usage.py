"""What the Open Data view reads from the metrics store: usage sums and series, and the
metadata problems of the latest nightly measurement. Grouped SQL over the store's tables, so
the overview costs one query however many datasets there are."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from ctdata.metrics.store import COUNTERS, MetricsStore, daily, snapshots

# The daily table's key is (date, dataset_id); one dataset's year reads this index instead.
_DATASET_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_metrics_daily_dataset_date ON metrics_daily (dataset_id, date)"
)


class UsageReader:
    """Reads the metrics store. The figures change once a night, so the sums and metadata
    problems of every dataset are kept until the store's latest measurement changes."""

    def __init__(self, url: str | None = None) -> None:
        self.store = MetricsStore(url)  # creates the metrics tables when missing
        self.engine: Engine = self.store.engine
        self._cache: dict[tuple[Any, ...], Any] = {}
        with self.engine.begin() as conn:
            conn.execute(text(_DATASET_INDEX))

    def version(self) -> tuple[Any, ...]:
        """The latest measurement: its date and when it was collected (a rerun changes it)."""
        day = select(func.max(snapshots.c.snapshot_date)).scalar_subquery()
        query = select(func.max(snapshots.c.snapshot_date), func.max(snapshots.c.collected_at))
        with self.engine.connect() as conn:
            return tuple(conn.execute(query.where(snapshots.c.snapshot_date == day)).one())

    def _cached(self, key: tuple[Any, ...], compute: Any) -> Any:
        key = (*key, self.version())
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = compute()
        return self._cache[key]

    def dispose(self) -> None:
        self.store.dispose()

    def totals(self, since: dt.date, until: dt.date) -> dict[str, dict[str, int]]:
        """Views, downloads and API calls per dataset over [since, until]."""
        return self._cached(("totals", since, until), lambda: self._totals(since, until))

    def _totals(self, since: dt.date, until: dt.date) -> dict[str, dict[str, int]]:
        sums = [func.sum(getattr(daily.c, c)).label(c) for c in COUNTERS]
        query = (
            select(daily.c.dataset_id, *sums)
            .where(daily.c.date >= since, daily.c.date <= until)
            .group_by(daily.c.dataset_id)
        )
        with self.engine.connect() as conn:
            return {
                row.dataset_id: {c: int(getattr(row, c) or 0) for c in COUNTERS}
                for row in conn.execute(query)
            }

    def series(self, dataset_id: str, since: dt.date, until: dt.date) -> list[dict[str, Any]]:
        """One dataset's daily figures, oldest first (None where not measured)."""
        query = (
            select(daily.c.date, *(getattr(daily.c, c) for c in COUNTERS))
            .where(daily.c.dataset_id == dataset_id, daily.c.date >= since, daily.c.date <= until)
            .order_by(daily.c.date)
        )
        with self.engine.connect() as conn:
            return [
                {"date": row.date.isoformat(), **{c: getattr(row, c) for c in COUNTERS}}
                for row in conn.execute(query)
            ]

    def missing_metadata(self, dataset_id: str | None = None) -> dict[str, list[str]]:
        """Required metadata fields each dataset lacked at the latest measurement."""
        latest = self.latest() if dataset_id is None else self._latest(dataset_id)
        return {key: row["missing_metadata"] for key, row in latest.items()}

    def latest(self) -> dict[str, dict[str, Any]]:
        """Each dataset's latest measurement: missing metadata, freshness, last update."""
        return self._cached(("latest",), self._latest)

    def _latest(self, dataset_id: str | None = None) -> dict[str, dict[str, Any]]:
        s = snapshots.c
        latest = select(func.max(s.snapshot_date)).scalar_subquery()
        query = select(s.dataset_id, s.missing_metadata, s.freshness, s.last_update).where(
            s.snapshot_date == latest
        )
        if dataset_id is not None:
            query = query.where(s.dataset_id == dataset_id)
        with self.engine.connect() as conn:
            return {
                row.dataset_id: {
                    "missing_metadata": json.loads(row.missing_metadata),
                    "freshness": row.freshness,
                    "last_update": row.last_update,
                }
                for row in conn.execute(query)
            }

    def attention(self) -> dict[str, list[dict[str, Any]]]:
        """The latest night's retirement candidates and late access plan items."""
        return self._cached(("attention",), self._attention)

    def _attention(self) -> dict[str, list[dict[str, Any]]]:
        from ctdata.metrics import attention

        day = self.version()[0]
        if day is None:
            return {"retirement_candidates": [], "late_plan_items": []}
        return {
            "retirement_candidates": attention.read_candidates(self.store, day),
            "late_plan_items": attention.read_late_items(self.store, day),
        }
