"""The metrics store: one snapshot of cumulative counters per dataset per day, and the daily
figures derived from consecutive snapshots (SQLAlchemy 2; SQLite by default, PostgreSQL too).

Saving a date replaces that date's snapshots and re-derives the days it affects, so a rerun
never double counts. When nights are missing between two snapshots, the later snapshot's
increase is split evenly over the days it covers and the missed days are flagged `filled`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Connection, Engine

from ctdata import settings, store
from ctdata.metrics.collect import Collection, Observation
from ctdata.store import redacted

metadata = MetaData()

snapshots = Table(
    "metrics_snapshots",
    metadata,
    Column("snapshot_date", Date, primary_key=True),
    Column("dataset_id", String(16), primary_key=True),
    Column("name", Text, nullable=False),
    Column("agency", Text, nullable=False),
    Column("automated", Boolean, nullable=False),
    Column("created", Date, nullable=True),
    Column("last_update", Date, nullable=True),
    Column("update_frequency", Text, nullable=True),
    Column("missing_metadata", Text, nullable=False),
    Column("freshness", String(16), nullable=False),
    Column("days_overdue", Integer, nullable=False),
    Column("views_total", BigInteger, nullable=False),
    Column("downloads_total", BigInteger, nullable=False),
    Column("api_calls_total", BigInteger, nullable=True),
    Column("collected_at", DateTime(timezone=True), nullable=False),
)

daily = Table(
    "metrics_daily",
    metadata,
    Column("date", Date, primary_key=True),
    Column("dataset_id", String(16), primary_key=True),
    Column("name", Text, nullable=False),
    Column("agency", Text, nullable=False),
    Column("views", BigInteger, nullable=True),
    Column("downloads", BigInteger, nullable=True),
    Column("api_calls", BigInteger, nullable=True),
    Column("views_total", BigInteger, nullable=False),
    Column("downloads_total", BigInteger, nullable=False),
    Column("api_calls_total", BigInteger, nullable=True),
    Column("filled", Boolean, nullable=False),
    Column("freshness", String(16), nullable=False),
    Column("days_overdue", Integer, nullable=False),
    Column("missing_metadata", Text, nullable=False),
    Column("measured_on", Date, nullable=False),
)

COUNTERS = ("views", "downloads", "api_calls")
_BATCH = 5_000


@dataclass(frozen=True)
class SaveResult:
    date: dt.date
    datasets: int
    daily_dates: list[dt.date]
    filled_rows: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "datasets": self.datasets,
            "daily_dates": [d.isoformat() for d in self.daily_dates],
            "filled_rows": self.filled_rows,
        }


class MetricsStore:
    """Snapshots and daily figures; creates its tables on first use."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or settings.current().state_url
        self.engine: Engine = store.engine(self.url)
        store.ensure_tables(metadata, self.engine)

    def __repr__(self) -> str:
        return f"MetricsStore({redacted(self.url)!r})"

    def dispose(self) -> None:
        store.release(self.url)

    # -- writing -----------------------------------------------------------------------------

    def save(self, collection: Collection) -> SaveResult:
        """Replace the date's snapshots and re-derive the daily rows they affect, atomically."""
        day = collection.date
        now = dt.datetime.now(dt.UTC)
        with self.engine.begin() as conn:
            conn.execute(delete(snapshots).where(snapshots.c.snapshot_date == day))
            rows = [_snapshot_row(day, o, now) for o in collection.observations]
            for start in range(0, len(rows), _BATCH):
                conn.execute(insert(snapshots), rows[start : start + _BATCH])
            ids = [o.dataset_id for o in collection.observations]
            previous = _neighbours(conn, day, before=True)
            following = _neighbours(conn, day, before=False)
            current = {r["dataset_id"]: r for r in rows}
            out: list[dict[str, Any]] = []
            for ds_id in ids:
                out += derive_span(previous.get(ds_id), current[ds_id])
                if ds_id in following:
                    out += derive_span(current[ds_id], following[ds_id])
            # Datasets gone from today's catalog: their next snapshot now spans from earlier.
            for ds_id, nxt in following.items():
                if ds_id not in current:
                    out += derive_span(previous.get(ds_id), nxt)
            _replace_daily(conn, out)
        dates = sorted({r["date"] for r in out})
        return SaveResult(day, len(rows), dates, sum(1 for r in out if r["filled"]))

    # -- reading -----------------------------------------------------------------------------

    def snapshot(self, day: dt.date) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            result = conn.execute(
                select(snapshots)
                .where(snapshots.c.snapshot_date == day)
                .order_by(snapshots.c.dataset_id)
            )
            return [_decode(dict(r._mapping)) for r in result]

    def daily(
        self,
        dates: Sequence[dt.date] | None = None,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        dataset_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Daily rows, optionally restricted to dates, a date range or one dataset."""
        query = select(daily).order_by(daily.c.date, daily.c.dataset_id)
        if dates is not None:
            query = query.where(daily.c.date.in_(list(dates)))
        if since is not None:
            query = query.where(daily.c.date >= since)
        if until is not None:
            query = query.where(daily.c.date <= until)
        if dataset_id is not None:
            query = query.where(daily.c.dataset_id == dataset_id)
        with self.engine.connect() as conn:
            return [_decode(dict(r._mapping)) for r in conn.execute(query)]

    def snapshot_dates(self) -> list[dt.date]:
        with self.engine.connect() as conn:
            query = select(snapshots.c.snapshot_date).distinct().order_by(snapshots.c.snapshot_date)
            return [r[0] for r in conn.execute(query)]


def _snapshot_row(day: dt.date, o: Observation, now: dt.datetime) -> dict[str, Any]:
    return {
        "snapshot_date": day,
        "dataset_id": o.dataset_id,
        "name": o.name,
        "agency": o.agency,
        "automated": o.automated,
        "created": o.created,
        "last_update": o.last_update,
        "update_frequency": o.update_frequency,
        "missing_metadata": json.dumps(list(o.missing_metadata)),
        "freshness": o.freshness.status,
        "days_overdue": o.freshness.days_overdue,
        "views_total": o.counters.views,
        "downloads_total": o.counters.downloads,
        "api_calls_total": o.counters.api_calls,
        "collected_at": now,
    }


def _neighbours(conn: Connection, day: dt.date, *, before: bool) -> dict[str, dict[str, Any]]:
    """Per dataset, its nearest snapshot before (or after) `day`, in one query."""
    date_col = snapshots.c.snapshot_date
    pick = func.max(date_col) if before else func.min(date_col)
    nearest = (
        select(snapshots.c.dataset_id.label("ds"), pick.label("d"))
        .where(date_col < day if before else date_col > day)
        .group_by(snapshots.c.dataset_id)
        .subquery()
    )
    query = select(snapshots).join(
        nearest, and_(snapshots.c.dataset_id == nearest.c.ds, date_col == nearest.c.d)
    )
    return {r.dataset_id: dict(r._mapping) for r in conn.execute(query)}


def derive_span(prev: dict[str, Any] | None, cur: dict[str, Any]) -> list[dict[str, Any]]:
    """Daily rows for the days after `prev`'s snapshot up to `cur`'s (inclusive).

    Without a previous snapshot the day's figures are the totals when the dataset is new
    (created on or after the day before), else unknown (None): older history is not guessed."""
    day: dt.date = cur["snapshot_date"]
    base = {
        "dataset_id": cur["dataset_id"],
        "name": cur["name"],
        "agency": cur["agency"],
        "freshness": cur["freshness"],
        "days_overdue": cur["days_overdue"],
        "missing_metadata": cur["missing_metadata"],
        "measured_on": day,
    }
    totals = {c: cur[f"{c}_total"] for c in COUNTERS}
    if prev is None:
        created = cur.get("created")
        new = created is not None and created >= day - dt.timedelta(days=1)
        values = {c: (totals[c] if new else None) for c in COUNTERS}
        return [{**base, "date": day, **values, **_totals(totals), "filled": False}]
    start: dt.date = prev["snapshot_date"]
    nights = (day - start).days
    shares = {c: _split(_delta(prev[f"{c}_total"], totals[c]), nights) for c in COUNTERS}
    running = {c: prev[f"{c}_total"] for c in COUNTERS}
    rows = []
    for i in range(nights):
        values = {c: (None if shares[c] is None else shares[c][i]) for c in COUNTERS}
        for c in COUNTERS:
            if running[c] is not None and values[c] is not None:
                running[c] += values[c]
        when = start + dt.timedelta(days=i + 1)
        last = i == nights - 1
        row_totals = totals if last else running
        rows.append({**base, "date": when, **values, **_totals(row_totals), "filled": not last})
    return rows


def _totals(values: dict[str, int | None]) -> dict[str, int | None]:
    return {f"{c}_total": values[c] for c in COUNTERS}


def _delta(before: int | None, after: int | None) -> int | None:
    if before is None or after is None:
        return None
    return max(0, after - before)  # a counter reset on the portal is not negative use


def _split(total: int | None, nights: int) -> list[int] | None:
    """Evenly over the nights; the remainder goes to the latest nights."""
    if total is None:
        return None
    share, remainder = divmod(total, nights)
    return [share + (1 if i >= nights - remainder else 0) for i in range(nights)]


def _replace_daily(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Delete the (date, dataset) rows about to be written, then insert them."""
    rows = list(rows)
    by_date: dict[dt.date, list[str]] = {}
    for row in rows:
        by_date.setdefault(row["date"], []).append(row["dataset_id"])
    for day, ids in by_date.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            conn.execute(delete(daily).where(daily.c.date == day, daily.c.dataset_id.in_(chunk)))
    for start in range(0, len(rows), _BATCH):
        conn.execute(insert(daily), rows[start : start + _BATCH])


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row["missing_metadata"] = json.loads(row["missing_metadata"])
    return row
