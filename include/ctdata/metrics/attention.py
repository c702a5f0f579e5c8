"""What the nightly measurement proposes to a person: datasets to consider retiring, and access
plan items past their target date. Kept per night in the usage history (the data the UI reads)
and shown in the report.

Retirement candidates (the state's reasons an asset may be retired, as far as metrics see them):
- *unused for a year*: no page view, download or API call in the past year (two snapshots a
  year apart with the same totals, or a dataset over a year old never used at all);
- *long overdue*: not updated for far longer than its update frequency promises;
- *superseded*: a newer dataset's spec says it replaces this one (`supersedes:`).
Datasets already retiring (a `retire:` block, or "ARCHIVE" in the title) are not proposed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Date,
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

from ctdata.metrics.config import CandidateRules
from ctdata.metrics.history import UsageHistory, snapshots
from ctdata.metrics.quality import OVERDUE
from ctdata.specs.access_plan import LATE, AccessPlanItem, access_plan_items
from ctdata.specs.models import AgencySpec
from ctdata.store import ensure_tables

UNUSED = "unused for a year"
DEFAULT_RULES = CandidateRules()
LONG_OVERDUE = "long overdue"
SUPERSEDED = "superseded"

metadata = MetaData()
candidates_table = Table(
    "metrics_retirement_candidates",
    metadata,
    Column("date", Date, primary_key=True),
    Column("dataset_id", String(16), primary_key=True),
    Column("name", Text, nullable=False),
    Column("agency", Text, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list
    Column("details", Text, nullable=False),
)
late_items_table = Table(
    "metrics_late_plan_items",
    metadata,
    Column("date", Date, primary_key=True),
    Column("agency", Text, primary_key=True),
    Column("item", Text, primary_key=True),  # portal id, else the title in lower case
    Column("title", Text, nullable=False),
    Column("portal_id", String(16), nullable=True),
    Column("target_date", Date, nullable=False),
    Column("days_late", Integer, nullable=False),
)


@dataclass(frozen=True)
class Candidate:
    dataset_id: str
    name: str
    agency: str
    reasons: tuple[str, ...]
    details: str


def retirement_candidates(
    snapshot: Sequence[dict[str, Any]],
    earlier: dict[str, dict[str, Any]],
    agencies: Iterable[AgencySpec],
    on: dt.date,
    *,
    rules: CandidateRules = DEFAULT_RULES,
    exclude: Iterable[str] = (),
) -> list[Candidate]:
    """Candidates among the night's snapshot rows; `earlier` holds each dataset's snapshot
    from about `rules.unused_days` ago (when the store has one)."""
    agencies = list(agencies)
    retiring = {d.portal_id for a in agencies for d in a.datasets if d.retire is not None}
    superseded_by = {
        old: d.metadata.title for a in agencies for d in a.datasets for old in d.supersedes
    }
    skip = retiring | set(exclude)
    out = []
    for row in snapshot:
        ds_id = row["dataset_id"]
        if ds_id in skip or str(row["name"]).upper().startswith("ARCHIVE"):
            continue
        found = _reasons(row, earlier.get(ds_id), superseded_by.get(ds_id), on, rules)
        if found:
            reasons, details = zip(*found, strict=True)
            out.append(Candidate(ds_id, row["name"], row["agency"], reasons, "; ".join(details)))
    return out


def _reasons(
    row: dict[str, Any],
    earlier: dict[str, Any] | None,
    replacement: str | None,
    on: dt.date,
    rules: CandidateRules,
) -> list[tuple[str, str]]:
    found = []
    if _unused(row, earlier, on, rules.unused_days):
        since = earlier["snapshot_date"] if earlier else row.get("created")
        found.append((UNUSED, f"no views, downloads or API calls since {since}"))
    if row["freshness"] == OVERDUE and row["days_overdue"] >= rules.overdue_days:
        last = row.get("last_update")
        found.append((LONG_OVERDUE, f"overdue by {row['days_overdue']} days (last update {last})"))
    if replacement:
        found.append((SUPERSEDED, f"replaced by {replacement!r}"))
    return found


def _unused(row: dict[str, Any], earlier: dict[str, Any] | None, on: dt.date, days: int) -> bool:
    totals = [row.get(f"{c}_total") for c in ("views", "downloads", "api_calls")]
    if earlier is not None:
        before = [earlier.get(f"{c}_total") for c in ("views", "downloads", "api_calls")]
        return totals == before
    created = row.get("created")
    old_enough = created is not None and created <= on - dt.timedelta(days=days)
    return old_enough and all(not t for t in totals)


def late_access_plan_items(
    agencies: Iterable[AgencySpec], published: Iterable[str], on: dt.date
) -> list[AccessPlanItem]:
    """Access plan items past their target date and not yet found published."""
    ids = frozenset(published)
    return [i for a in agencies for i in access_plan_items(a, ids, on) if i.status == LATE]


# -- the store (what the UI reads) ---------------------------------------------------------


def snapshots_before(store: UsageHistory, cutoff: dt.date) -> dict[str, dict[str, Any]]:
    """Per dataset, its latest snapshot on or before `cutoff`."""
    date_col = snapshots.c.snapshot_date
    nearest = (
        select(snapshots.c.dataset_id.label("ds"), func.max(date_col).label("d"))
        .where(date_col <= cutoff)
        .group_by(snapshots.c.dataset_id)
        .subquery()
    )
    query = select(snapshots).join(
        nearest, and_(snapshots.c.dataset_id == nearest.c.ds, date_col == nearest.c.d)
    )
    with store.engine.connect() as conn:
        return {r.dataset_id: dict(r._mapping) for r in conn.execute(query)}


def save(
    store: UsageHistory,
    day: dt.date,
    candidates: Sequence[Candidate],
    late: Sequence[AccessPlanItem],
) -> None:
    """Replace the night's proposals."""
    ensure_tables(metadata, store.engine)
    with store.engine.begin() as conn:
        for table in (candidates_table, late_items_table):
            conn.execute(delete(table).where(table.c.date == day))
        if candidates:
            conn.execute(
                insert(candidates_table),
                [
                    {"date": day, "dataset_id": c.dataset_id, "name": c.name,
                     "agency": c.agency, "reasons": json.dumps(list(c.reasons)),
                     "details": c.details}
                    for c in candidates
                ],
            )  # fmt: skip
        if late:
            conn.execute(
                insert(late_items_table),
                [
                    {"date": day, "agency": i.agency, "item": i.key, "title": i.title,
                     "portal_id": i.portal_id, "target_date": i.target_date,
                     "days_late": i.days_late}
                    for i in late
                ],
            )  # fmt: skip


def read_candidates(store: UsageHistory, day: dt.date) -> list[dict[str, Any]]:
    """The night's retirement candidates, by agency and name."""
    ensure_tables(metadata, store.engine)
    table = candidates_table
    query = select(table).where(table.c.date == day).order_by(table.c.agency, table.c.name)
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        row["reasons"] = json.loads(row["reasons"])
    return rows


def read_late_items(store: UsageHistory, day: dt.date) -> list[dict[str, Any]]:
    """The night's late access plan items, most late first."""
    ensure_tables(metadata, store.engine)
    table = late_items_table
    query = (
        select(table)
        .where(table.c.date == day)
        .order_by(table.c.days_late.desc(), table.c.agency, table.c.title)
    )
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def record(
    store: UsageHistory,
    day: dt.date,
    agencies: Sequence[AgencySpec],
    *,
    rules: CandidateRules = DEFAULT_RULES,
    exclude: Iterable[str] = (),
) -> tuple[list[Candidate], list[AccessPlanItem]]:
    """Compute the night's proposals from its snapshot and store them."""
    snapshot = store.snapshot(day)
    earlier = snapshots_before(store, day - dt.timedelta(days=rules.unused_days))
    candidates = retirement_candidates(
        snapshot, earlier, agencies, day, rules=rules, exclude=exclude
    )
    late = late_access_plan_items(agencies, (r["dataset_id"] for r in snapshot), day)
    save(store, day, candidates, late)
    return candidates, late
