"""Airflow Assets for published portal datasets: `x-socrata://<portal domain>/<four-by-four>`.

`x-` marks a scheme no Airflow provider defines, which Airflow then takes as it is; a plain
`socrata://` would make every parse of the DAG file load all providers' URI handlers (boto3
among them), a third of a second per agency DAG file parse at the state's scale.

Each dataset's publish task lists its asset as an outlet and attaches the run's row counts to
the asset event, so the Assets view lists every published dataset with its updates, and any
DAG can be scheduled on them, e.g. `schedule=[portal_asset("ocme-twn7")]`. A dataset whose id
the pipeline records when it creates it (no `portal_id` in the spec) is known at parse time only
by its alias `ctdata/<agency>/<slug>`; its publish task attaches the event to the real asset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.sdk import Asset, AssetAlias

from ctdata import settings

if TYPE_CHECKING:
    from ctdata.specs import DatasetSpec

GROUP = "socrata"
SCHEME = "x-socrata"


def portal_domain() -> str:
    """The portal's host name (no scheme or port), from CTDATA_PORTAL_URL."""
    return urlsplit(settings.current().portal_url).hostname or "data.ct.gov"


def portal_asset(portal_id: str, title: str | None = None) -> Asset:
    uri = f"{SCHEME}://{portal_domain()}/{portal_id}"
    extra = {"portal_url": f"{settings.current().portal_url}/d/{portal_id}"}
    if title:
        extra["title"] = title
    return Asset(uri=uri, name=uri, group=GROUP, extra=extra)


def publish_outlet(agency_code: str, dataset: DatasetSpec) -> Asset | AssetAlias:
    """The publish task's outlet: the dataset's asset, or its alias until the id is known."""
    if dataset.portal_id:
        return portal_asset(dataset.portal_id, dataset.metadata.title)
    return AssetAlias(name=f"ctdata/{agency_code}/{dataset.slug}", group=GROUP)


def publish_extra(result: dict[str, Any]) -> dict[str, Any]:
    """What the asset event carries: rows created, changed and deleted, and bytes sent."""
    return {
        "rows_created": result.get("created"),
        "rows_changed": result.get("updated"),
        "rows_deleted": result.get("deleted"),
        "rows_unchanged": result.get("unchanged"),
        "bytes_sent": result.get("bytes_sent"),
    }


def emit_publish_event(context: Any, result: dict[str, Any]) -> None:
    """Attach the publish counts to this task's asset events (through the alias, to the asset
    of the dataset the pipeline created)."""
    extra = publish_extra(result)
    for outlet in context["task"].outlets:
        if isinstance(outlet, Asset):
            context["outlet_events"][outlet].extra.update(extra)
        elif isinstance(outlet, AssetAlias):
            context["outlet_events"][outlet].add(portal_asset(result["dataset_id"]), extra=extra)
