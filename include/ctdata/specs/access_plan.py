"""An agency's open data access plan as the state reads it: every dataset the agency publishes
or plans to publish, each with a status (published, planned, late, retiring, retired).

The plan is the spec's `access_plan` entries plus the spec's datasets it does not list (a
dataset the pipeline publishes is part of the plan whether or not someone wrote it down).
Pure functions: the inventory, the scorecard and the metrics the UI reads share them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from dataclasses import dataclass

from ctdata.specs.models import AgencySpec, DatasetSpec

PUBLISHED = "Published"
PLANNED = "Planned"
LATE = "Late"
RETIRING = "Retiring"
RETIRED = "Retired"


@dataclass(frozen=True)
class PlanItem:
    agency: str
    agency_code: str
    title: str
    portal_id: str | None
    target_date: dt.date | None
    status: str
    days_late: int
    update_frequency: str | None
    automated: bool
    slug: str | None = None  # the spec dataset the item is, found by slug before it has an id

    @property
    def late(self) -> bool:
        return self.status == LATE

    @property
    def key(self) -> str:
        """Stable identity within the agency: the portal id, else the title."""
        return self.portal_id or self.title.lower()


def plan_items(agency: AgencySpec, published: Container[str], today: dt.date) -> list[PlanItem]:
    """The agency's plan on `today`; `published` holds the portal ids found published."""
    by_id = {d.portal_id: d for d in agency.datasets}
    listed = {e.portal_id for e in agency.access_plan if e.portal_id}
    items = [
        _item(
            agency,
            e.title,
            e.portal_id,
            e.target_date,
            by_id.get(e.portal_id or ""),
            published,
            today,
        )  # fmt: skip
        for e in agency.access_plan
    ]
    items += [
        _item(agency, d.metadata.title, d.portal_id, None, d, published, today)
        for d in agency.datasets
        if d.portal_id not in listed
    ]
    return items


def _item(
    agency: AgencySpec,
    title: str,
    portal_id: str | None,
    target: dt.date | None,
    dataset: DatasetSpec | None,
    published: Container[str],
    today: dt.date,
) -> PlanItem:
    status, late = _status(portal_id, target, dataset, published, today)
    return PlanItem(
        agency=agency.name,
        agency_code=agency.code,
        title=title,
        portal_id=portal_id,
        target_date=target,
        status=status,
        days_late=late,
        update_frequency=dataset.metadata.update_frequency if dataset else None,
        automated=dataset is not None,
        slug=dataset.slug if dataset else None,
    )


def _status(
    portal_id: str | None,
    target: dt.date | None,
    dataset: DatasetSpec | None,
    published: Container[str],
    today: dt.date,
) -> tuple[str, int]:
    retire = dataset.retire if dataset else None
    if retire is not None and today >= retire.notice_date:
        return (RETIRED if today >= retire.removal_date else RETIRING), 0
    if portal_id and portal_id in published:
        return PUBLISHED, 0
    if target is not None and today > target:
        return LATE, (today - target).days
    return PLANNED, 0


@dataclass(frozen=True)
class PlanProgress:
    """Where a plan stands: its items published, of all its items, and those late."""

    published: int
    items: int
    late: int

    @property
    def share(self) -> float | None:
        return round(self.published / self.items, 4) if self.items else None


def progress(items: list[PlanItem]) -> PlanProgress:
    """The one count of a plan's progress: the view, the scorecard and the published Open Data
    Access Plans dataset (one row per item, its status) all read it this way."""
    return PlanProgress(
        published=sum(i.status == PUBLISHED for i in items),
        items=len(items),
        late=sum(i.late for i in items),
    )
