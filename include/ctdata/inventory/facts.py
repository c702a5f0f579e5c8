"""What the portal and the metrics store know about each agency's datasets: which are public,
when each was last updated, the agency's datasets published by hand (found in the catalog by
attribution), and a year of use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ctdata.errors import PortalRefusedError
from ctdata.specs.models import AgencySpec

if TYPE_CHECKING:
    from ctdata.metrics.store import MetricsStore
    from ctdata.portal.client import SocrataClient

COUNTERS = ("views", "downloads", "api_calls")


@dataclass(frozen=True)
class PortalDataset:
    """One dataset as the portal shows it."""

    dataset_id: str
    name: str
    description: str
    category: str | None
    update_frequency: str | None
    public: bool
    last_updated: dt.date | None


@dataclass
class Facts:
    on_portal: dict[str, PortalDataset] = field(default_factory=dict)
    by_hand: dict[str, list[str]] = field(default_factory=dict)  # agency code -> dataset ids
    use: dict[str, dict[str, int | None]] = field(default_factory=dict)  # id -> year of use

    @property
    def public_ids(self) -> frozenset[str]:
        return frozenset(i for i, d in self.on_portal.items() if d.public)


def gather(
    client: SocrataClient,
    agencies: Sequence[AgencySpec],
    on: dt.date,
    store: MetricsStore | None = None,
    exclude: frozenset[str] = frozenset(),
) -> Facts:
    """Catalog pages, one view per agency dataset (visibility is not in the catalog), and the
    past year's use from the metrics store when there is one. `exclude`: datasets that are no
    agency's holdings (the pipeline's own metrics and registers)."""
    from ctdata.metrics.collect import AgencyIndex, local_date
    from ctdata.metrics.quality import custom_fields

    facts = Facts()
    index = AgencyIndex.build(agencies, None)
    codes = {a.name: a.code for a in agencies}
    catalog = {str((e.get("resource") or {}).get("id")): e for e in client.catalog()}
    wanted = {d.portal_id for a in agencies for d in a.datasets if d.portal_id}
    wanted |= {e.portal_id for a in agencies for e in a.access_plan if e.portal_id}
    skip = wanted | exclude
    for ds_id, entry in catalog.items():
        resource = entry.get("resource") or {}
        custom = custom_fields(entry)
        owner = index.agency_of(ds_id, resource.get("attribution"), custom.get("agency"))
        if owner in codes and ds_id not in skip and resource.get("type", "dataset") == "dataset":
            facts.by_hand.setdefault(codes[owner], []).append(ds_id)
            wanted.add(ds_id)
    for ds_id in sorted(wanted):
        view = _view(client, ds_id)
        if view is not None:
            facts.on_portal[ds_id] = _portal_dataset(view, local_date)
    if store is not None:
        facts.use = year_of_use(store, on)
    return facts


def _view(client: SocrataClient, ds_id: str) -> dict[str, Any] | None:
    try:
        return client.get_metadata(ds_id)
    except PortalRefusedError as exc:
        if exc.status in (401, 403, 404):
            return None  # not on the portal (planned), or not visible to this account
        raise


def _portal_dataset(view: dict[str, Any], local_date: Any) -> PortalDataset:
    from ctdata.lifecycle.portal_metadata import shown_custom_field
    from ctdata.retirement.process import is_public

    return PortalDataset(
        dataset_id=str(view["id"]),
        name=str(view.get("name") or view["id"]),
        description=str(view.get("description") or ""),
        category=view.get("category"),
        update_frequency=shown_custom_field(view, "update_frequency"),
        public=is_public(view) and view.get("publicationStage") == "published",
        last_updated=local_date(view.get("rowsUpdatedAt") or view.get("createdAt")),
    )


def year_of_use(store: MetricsStore, on: dt.date) -> dict[str, dict[str, int | None]]:
    """Per dataset, views, downloads and API calls in the 365 days up to `on` (None: a
    counter never measured in that year)."""
    use: dict[str, dict[str, int | None]] = {}
    for row in store.daily(since=on - dt.timedelta(days=364), until=on):
        totals = use.setdefault(row["dataset_id"], dict.fromkeys(COUNTERS))
        for counter in COUNTERS:
            value = row.get(counter)
            if value is not None:
                totals[counter] = (totals[counter] or 0) + int(value)
    return use
