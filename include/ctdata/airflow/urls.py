"""Where the Open Data view lives and how its pages, alerts and the run log link to Airflow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctdata import settings

if TYPE_CHECKING:
    from ctdata.monitoring.views import Links

URL_PREFIX = "/ctdata"  # the view's FastAPI app, mounted by the API server
NAV_ROUTE = "open-data"  # its page in the Airflow UI: /plugin/open-data


def airflow_url() -> str:
    """Base URL of the Airflow UI: CTDATA_AIRFLOW_URL, else Airflow's [api] base_url."""
    configured = settings.current().airflow_url
    if configured:
        return configured.rstrip("/")
    from airflow.configuration import conf

    return (conf.get("api", "base_url", fallback="") or "http://localhost:8080").rstrip("/")


def dataset_page_url(portal_id: str) -> str:
    return f"{airflow_url()}{URL_PREFIX}/datasets/{portal_id}"


def links() -> Links:
    from ctdata.monitoring.views import Links

    return Links(settings.current().portal_url, airflow_url())
