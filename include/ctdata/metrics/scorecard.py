"""Publishing activity and quality per agency for one day (DataSF-style measures)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from ctdata.metrics.quality import ON_TIME, OVERDUE
from ctdata.specs.access_plan import PlanProgress, plan_items, progress
from ctdata.specs.models import AgencySpec


@dataclass(frozen=True)
class AgencyScore:
    agency: str
    date: dt.date
    datasets_published: int
    share_automated: float | None
    share_access_plan_published: float | None
    late_access_plan_items: int
    share_updated_on_time: float | None
    share_complete_metadata: float | None
    views: int
    downloads: int
    api_calls: int

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["row_id"] = f"{self.agency}|{self.date.isoformat()}"
        return row


def scorecard(
    day: dt.date,
    snapshot: Iterable[dict[str, Any]],
    daily: Iterable[dict[str, Any]],
    agencies: Iterable[AgencySpec],
) -> list[AgencyScore]:
    """One AgencyScore per agency seen in the snapshot or registered with a spec."""
    by_agency: dict[str, list[dict[str, Any]]] = {}
    for row in snapshot:
        by_agency.setdefault(row["agency"], []).append(row)
    plans = {a.name: a for a in agencies}
    for name in plans:
        by_agency.setdefault(name, [])
    published_ids = {r["dataset_id"] for rows in by_agency.values() for r in rows}
    use: dict[str, dict[str, int]] = {}
    for row in daily:
        if row["date"] != day:
            continue
        totals = use.setdefault(row["agency"], {"views": 0, "downloads": 0, "api_calls": 0})
        for counter in totals:
            totals[counter] += row.get(counter) or 0
    scores = []
    for agency, rows in sorted(by_agency.items()):
        spec = plans.get(agency)
        plan = progress(plan_items(spec, published_ids, day)) if spec else PlanProgress(0, 0, 0)
        scheduled = [r for r in rows if r["freshness"] in (ON_TIME, OVERDUE)]
        counts = use.get(agency, {})
        scores.append(
            AgencyScore(
                agency=agency,
                date=day,
                datasets_published=len(rows),
                share_automated=_share(sum(r["automated"] for r in rows), len(rows)),
                share_access_plan_published=plan.share,
                late_access_plan_items=plan.late,
                share_updated_on_time=_share(
                    sum(r["freshness"] == ON_TIME for r in scheduled), len(scheduled)
                ),
                share_complete_metadata=_share(
                    sum(not r["missing_metadata"] for r in rows), len(rows)
                ),
                views=counts.get("views", 0),
                downloads=counts.get("downloads", 0),
                api_calls=counts.get("api_calls", 0),
            )
        )
    return scores


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
