"""Cumulative views, downloads and API calls per dataset from the portal's system dataset
"Site Analytics: Asset Access", or, when it cannot be read, from the catalog.

The dataset is long form (one row per hour, asset, access type and user segment, the number of
accesses in a count column); only the public's segments count (anonymous by default: the
publishing accounts sign in, and their read-backs are not use) and private to domain administrators, so the job first finds it (its
configured id, else its name in the catalog), checks its columns, then asks the portal for the
sums per asset and access type in one grouped query. Absent (404) or not shared with the
configured account (401/403): the night's counters come from the catalog, with one warning. A
dataset whose columns do not match the configured field names is a configuration error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctdata.errors import ConfigurationError, PortalRefusedError
from ctdata.metrics.config import SiteAnalyticsConfig

if TYPE_CHECKING:
    from ctdata.portal.client import SocrataClient

log = logging.getLogger(__name__)

CONFIG_FILE = "include/usage_metrics.yaml"
UNREADABLE = {
    401: "needs a signed-in account that may read it",
    403: "is not shared with the configured account (share it, or use an administrator's)",
    404: "does not exist on the portal",
}


@dataclass(frozen=True)
class Counters:
    views: int
    downloads: int
    api_calls: int | None


NO_USE = Counters(0, 0, 0)  # absent from site analytics: never viewed, downloaded or called


@dataclass(frozen=True)
class CounterSource:
    """Where a night's counters came from; `fallback` says why not from site analytics."""

    analytics_id: str | None = None
    fallback: str | None = None

    @property
    def description(self) -> str:
        if self.analytics_id and not self.fallback:
            return f"site analytics dataset {self.analytics_id}"
        return "catalog counts (page views and downloads; API calls not measured)"


@dataclass(frozen=True)
class SiteCounters:
    source: CounterSource
    counters: dict[str, Counters] | None  # None: take each dataset's catalog counts


def read_site_counters(
    client: SocrataClient, config: SiteAnalyticsConfig | None, catalog: Sequence[dict[str, Any]]
) -> SiteCounters:
    """Counters per dataset id from site analytics, else the reason to use the catalog's."""
    if config is None:
        log.info("Site analytics disabled in %s: counting from the catalog.", CONFIG_FILE)
        return SiteCounters(CounterSource(fallback="site analytics disabled"), None)
    dataset_id = config.dataset_id or _find_by_name(catalog, config.dataset_name)
    if dataset_id is None:
        reason = (
            f"no dataset named {config.dataset_name!r} is visible to the configured account; "
            f"set site_analytics.dataset_id in {CONFIG_FILE} to its four-by-four and share it "
            "with the account"
        )
        return _fallback(None, reason)
    try:
        check_columns(client, dataset_id, config)
        counters = sum_accesses(client, dataset_id, config)
    except PortalRefusedError as exc:
        if exc.status not in UNREADABLE:
            raise
        return _fallback(
            dataset_id, f"site analytics dataset {dataset_id} {UNREADABLE[exc.status]}"
        )
    log.info("Site analytics dataset %s holds accesses to %d datasets.", dataset_id, len(counters))
    return SiteCounters(CounterSource(dataset_id), counters)


def _fallback(dataset_id: str | None, reason: str) -> SiteCounters:
    log.warning(
        "Site analytics not used tonight: %s. Page views and downloads come from the catalog; "
        "API calls are not measured.",
        reason,
    )
    return SiteCounters(CounterSource(dataset_id, reason), None)


def _find_by_name(catalog: Iterable[dict[str, Any]], name: str) -> str | None:
    wanted = name.strip().lower()
    for entry in catalog:
        resource = entry.get("resource") or {}
        if str(resource.get("name") or "").strip().lower() == wanted:
            return str(resource.get("id") or "") or None
    return None


def check_columns(client: SocrataClient, dataset_id: str, config: SiteAnalyticsConfig) -> None:
    """Refuse to query a dataset that lacks a configured column, naming what is missing."""
    view = client.get_metadata(dataset_id)
    present = [str(c.get("fieldName")) for c in view.get("columns") or []]
    wanted = config.fields.model_dump()
    missing = {key: field for key, field in wanted.items() if field not in present}
    if missing:
        listed = ", ".join(f"{f} (site_analytics.fields.{k})" for k, f in missing.items())
        raise ConfigurationError(
            f"Site analytics dataset {dataset_id} ({view.get('name')!r}) lacks the column(s) {listed}; "
            f"its columns are {', '.join(present) or 'none'}. Set the field names in "
            f"{CONFIG_FILE} to this dataset's, or point site_analytics.dataset_id at the "
            "portal's 'Site Analytics: Asset Access' dataset."
        )


def sum_accesses(
    client: SocrataClient, dataset_id: str, config: SiteAnalyticsConfig
) -> dict[str, Counters]:
    """The public's accesses to date per asset, summed by the portal (one row per asset and
    access type): only the configured user segments (anonymous readers), so the pipeline's own
    reads, signed in as the publishing account, are not counted as use."""
    f = config.fields
    kinds = config.access_types
    counter_of = {a: "views" for a in kinds.views}
    counter_of |= {a: "downloads" for a in kinds.downloads}
    counter_of |= {a: "api_calls" for a in kinds.api_calls}
    where = f"{f.asset_type} IN ({_quoted(config.asset_types)}) AND "
    where += f"{f.access_type} IN ({_quoted(counter_of)}) AND "
    where += f"{f.user_segment} IN ({_quoted(config.public_user_segments)})"
    rows = client.read_rows(
        dataset_id,
        select=f"{f.asset_id}, {f.access_type}, sum({f.count}) AS accesses",
        where=where,
        group=f"{f.asset_id}, {f.access_type}",
        order=f"{f.asset_id}, {f.access_type}",
    )
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        counter = counter_of.get(str(row.get(f.access_type)))
        if counter is None:
            continue
        asset = totals.setdefault(
            str(row[f.asset_id]), {"views": 0, "downloads": 0, "api_calls": 0}
        )
        asset[counter] += int(float(row.get("accesses") or 0))
    return {asset: Counters(**t) for asset, t in totals.items()}


def _quoted(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)
