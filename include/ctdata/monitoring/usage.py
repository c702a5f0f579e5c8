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
        if dataset_id is None:
            return self._cached(("missing",), self._missing)
        return self._missing(dataset_id)

    def _missing(self, dataset_id: str | None = None) -> dict[str, list[str]]:
        latest = select(func.max(snapshots.c.snapshot_date)).scalar_subquery()
        query = select(snapshots.c.dataset_id, snapshots.c.missing_metadata).where(
            snapshots.c.snapshot_date == latest
        )
        if dataset_id is not None:
            query = query.where(snapshots.c.dataset_id == dataset_id)
        with self.engine.connect() as conn:
            return {row.dataset_id: json.loads(row.missing_metadata) for row in conn.execute(query)}
