"""Collect one night's counters and catalog facts for every dataset, in a handful of requests.

Discovery is the paged catalog (`/api/catalog/v1`, 1,000 datasets a page) and the counters are
one grouped SoQL query on the portal's "Site Analytics: Asset Access" dataset (see
`ctdata.metrics.analytics`), so the number of requests grows with pages, not with datasets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ctdata.clock import state_date
from ctdata.lifecycle.registry import resolve_portal_id
from ctdata.metrics.analytics import NO_USE, Counters, CounterSource, read_site_counters
from ctdata.metrics.config import MetricsConfig
from ctdata.metrics.quality import Freshness, custom_fields, freshness, missing_metadata
from ctdata.specs.models import AgencySpec

if TYPE_CHECKING:
    from ctdata.portal.client import SocrataClient

UNKNOWN_AGENCY = "Unknown agency"


@dataclass(frozen=True)
class Observation:
    """What one night's collection knows about one dataset (becomes a snapshot row)."""

    dataset_id: str
    name: str
    agency: str
    automated: bool
    created: dt.date | None
    last_update: dt.date | None
    update_frequency: str | None
    missing_metadata: tuple[str, ...]
    freshness: Freshness
    counters: Counters


@dataclass
class Collection:
    """A night's observations plus the cost of collecting them."""

    date: dt.date
    observations: list[Observation]
    requests: int = 0
    skipped: list[str] = field(default_factory=list)
    source: CounterSource = field(default_factory=CounterSource)


@dataclass(frozen=True)
class AgencyIndex:
    """Who owns a portal dataset: a spec listing its id, else the attribution's agency."""

    by_id: dict[str, str]
    by_name: dict[str, str]
    automated_ids: frozenset[str]

    @classmethod
    def build(cls, agencies: Iterable[AgencySpec], config: MetricsConfig | None) -> AgencyIndex:
        by_id: dict[str, str] = {}
        by_name: dict[str, str] = {}
        specs = list(agencies) + ([config.agency()] if config is not None else [])
        for agency in specs:
            by_name[_norm(agency.name)] = agency.name
            for dataset in agency.datasets:
                portal_id = resolve_portal_id(agency.code, dataset)  # created ones too
                if portal_id is not None:
                    by_id[portal_id] = agency.name
                by_name.setdefault(_norm(dataset.metadata.attribution), agency.name)
        return cls(by_id, by_name, frozenset(by_id))

    def agency_of(self, dataset_id: str, attribution: str | None, custom_agency: str | None) -> str:
        if dataset_id in self.by_id:
            return self.by_id[dataset_id]
        for label in (attribution, custom_agency):
            if label and label.strip():
                return self.by_name.get(_norm(label), label.strip())
        return UNKNOWN_AGENCY


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def collect(
    client: SocrataClient,
    config: MetricsConfig,
    agencies: Iterable[AgencySpec],
    on: dt.date,
) -> Collection:
    """Catalog pages + one grouped counters query → an Observation per dataset."""
    before = client.stats.requests
    index = AgencyIndex.build(agencies, config)
    domains = [config.domain] if config.domain else None
    entries = list(client.catalog(domains=domains, page_size=config.catalog_page_size))
    site = read_site_counters(client, config.site_analytics, entries)
    collection = Collection(on, [], source=site.source)
    seen: set[str] = set()
    for entry in entries:
        resource = entry.get("resource") or {}
        ds_id = str(resource.get("id") or "")
        if not ds_id or ds_id == site.source.analytics_id or ds_id in seen:
            continue
        if resource.get("type", "dataset") != "dataset":
            collection.skipped.append(ds_id)
            continue
        seen.add(ds_id)
        measured = None if site.counters is None else site.counters.get(ds_id, NO_USE)
        collection.observations.append(observe(entry, measured, index, on))
    collection.requests = client.stats.requests - before
    return collection


def observe(
    entry: dict[str, Any], counters: Counters | None, index: AgencyIndex, on: dt.date
) -> Observation:
    """One catalog entry (and its counters) as an Observation; pure, so it is unit-tested."""
    resource = entry.get("resource") or {}
    custom = custom_fields(entry)
    ds_id = str(resource["id"])
    created = local_date(resource.get("createdAt"))
    updated = local_date(resource.get("data_updated_at") or resource.get("updatedAt")) or created
    frequency = custom.get("update_frequency")
    if counters is None:  # no site analytics: the catalog's own counters (no API calls)
        views = (resource.get("page_views") or {}).get("page_views_total") or 0
        counters = Counters(int(views), int(resource.get("download_count") or 0), None)
    return Observation(
        dataset_id=ds_id,
        name=str(resource.get("name") or ds_id),
        agency=index.agency_of(ds_id, resource.get("attribution"), custom.get("agency")),
        automated=ds_id in index.automated_ids,
        created=created,
        last_update=updated,
        update_frequency=frequency,
        missing_metadata=tuple(missing_metadata(entry)),
        freshness=freshness(frequency, updated, on),
        counters=counters,
    )


def local_date(value: Any) -> dt.date | None:
    """A catalog timestamp (ISO string or epoch seconds) as a date in Connecticut."""
    if value in (None, "", 0):
        return None
    if isinstance(value, int | float):
        stamp = dt.datetime.fromtimestamp(value, dt.UTC)
    else:
        try:
            stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return state_date(stamp)
