"""Airflow Assets for published portal datasets: `socrata://<portal domain>/<four-by-four>`.

Each dataset's publish task lists its asset as an outlet and attaches the run's row counts to
the asset event, so the Assets view lists every published dataset with its updates, and any
DAG can be scheduled on them, e.g. `schedule=[portal_asset("ocme-twn7")]`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from airflow.sdk import Asset

from ctdata import settings

GROUP = "socrata"


def portal_domain() -> str:
    """The portal's host name (no scheme or port), from CTDATA_PORTAL_URL."""
    return urlsplit(settings.portal_url()).hostname or "data.ct.gov"


def portal_asset(portal_id: str, title: str | None = None) -> Asset:
    uri = f"socrata://{portal_domain()}/{portal_id}"
    extra = {"portal_url": f"{settings.portal_url()}/d/{portal_id}"}
    if title:
        extra["title"] = title
    return Asset(uri=uri, name=uri, group=GROUP, extra=extra)


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
    """Attach the publish counts to this task's asset events."""
    for outlet in context["task"].outlets:
        if isinstance(outlet, Asset):
            context["outlet_events"][outlet].extra.update(publish_extra(result))
