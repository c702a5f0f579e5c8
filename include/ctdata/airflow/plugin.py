"""The "Open Data" view in the Airflow UI: an Airflow plugin registered by the package itself
(entry point `airflow.plugins` in pyproject.toml), so installing ctdata is enough.

The FastAPI app (ctdata.ui.app) is mounted by the API server under /ctdata, behind Airflow's
own auth manager: the same JWT the REST API takes (bearer header or the UI's `_token` cookie).
Anonymous API calls get 401; anonymous page views are sent to the login page. A user sees the
agencies whose `publish_<agency>` DAG the auth manager lets them read, so an auth manager with
per-DAG permissions (FAB, Keycloak...) scopes the view to an agency's own datasets.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status

from ctdata.airflow.urls import NAV_ROUTE, URL_PREFIX, airflow_url, links

try:
    from airflow.plugins_manager import AirflowPlugin
except ImportError:  # pragma: no cover - task SDK only
    from airflow.sdk.plugins_manager import AirflowPlugin  # type: ignore[no-redef]


def _access(user: Any) -> Any:
    """The user's name and the agencies whose DAG the auth manager lets them read."""
    from airflow.api_fastapi.app import get_auth_manager

    from ctdata.monitoring.catalog import load_catalog
    from ctdata.ui.app import Access

    readable = get_auth_manager().get_authorized_dag_ids(user=user, method="GET")
    catalog = load_catalog()
    agencies = frozenset(a.code for a in catalog.agencies if catalog.dag_of(a) in readable)
    return Access(user=user.get_name(), agencies=agencies)


def pending_reviews() -> list[dict[str, Any]]:
    """Reviews waiting for a decision: Airflow's human-in-the-loop requests of the agency DAGs'
    `review` tasks not answered yet, with a link to decide (the task's Required Actions)."""
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from ctdata.monitoring.catalog import load_catalog

    agencies = {a.dag_id: a.code for a in load_catalog().agencies}
    ti = TaskInstance
    query = (
        select(ti.dag_id, ti.run_id, ti.task_id, HITLDetail.subject, HITLDetail.created_at)
        .join(HITLDetail, HITLDetail.ti_id == ti.id)
        .where(HITLDetail.responded_at.is_(None), ti.dag_id.in_(list(agencies)))
        .order_by(HITLDetail.created_at)
    )
    base = airflow_url()
    with create_session() as session:
        waiting = session.execute(query).all()
    return [
        {
            "agency": agencies[dag_id],
            "title": subject,
            "detail": f"asked {created_at:%Y-%m-%d %H:%M} UTC in run {run_id}",
            "who": reviewers(),
            "link": f"{base}/dags/{dag_id}/runs/{run_id}/tasks/{task_id}/required_actions",
        }
        for dag_id, run_id, task_id, subject, created_at in waiting
    ]


def reviewers() -> str:
    from ctdata import settings

    named = settings.current().reviewers
    return "OPM's reviewers: " + ", ".join(named) if named else "an OPM reviewer"


def access_dependencies() -> tuple[Any, Any]:
    """FastAPI dependencies for the API (401/403 without a valid token) and for pages (a
    browser without a session is sent to Airflow's login page)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

    def api_access(user: Any = Depends(get_user)) -> Any:  # noqa: B008 - FastAPI's idiom
        return _access(user)

    async def page_access(request: Request) -> Any:
        try:
            user = await get_user(request, None, await bearer_scheme(request))
        except HTTPException as refused:
            if refused.status_code not in (status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN):
                raise
            login = get_auth_manager().get_url_login(next_url=str(request.url))
            raise HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": login}) from None
        return _access(user)

    return api_access, page_access


@functools.lru_cache(maxsize=4096)  # how a run was made never changes
def logs_kept(dag_id: str, run_id: str) -> bool:
    """Did Airflow keep this run's task logs? Not for `airflow dags test` runs (made by TEST):
    their tasks run inside the command, which prints the logs instead."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunTriggeredByType
    from sqlalchemy import select

    query = select(DagRun.triggered_by).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
    with create_session() as session:
        made_by = session.execute(query).scalar()
    return made_by != DagRunTriggeredByType.TEST


def view_links() -> Any:
    """The view's links, knowing which runs kept no task log."""
    return dataclasses.replace(links(), logs_kept=logs_kept)


def create_open_data_app() -> Any:
    from ctdata.ui.app import create_app

    root = urlsplit(airflow_url()).path.rstrip("/") + URL_PREFIX
    api_access, page_access = access_dependencies()
    return create_app(
        api_access, page_access=page_access, links=view_links, root=root, reviews=pending_reviews
    )


class OpenDataPlugin(AirflowPlugin):
    """Adds "Open Data" to the Airflow UI's navigation (the pages in the UI's frame)."""

    name = "ctdata_open_data"
    external_views = [
        {
            "name": "Open Data",
            "href": f"{URL_PREFIX}/",
            "url_route": NAV_ROUTE,
            "destination": "nav",
            "nav_top_level": True,
        }
    ]

    @property  # type: ignore[override]
    def fastapi_apps(self) -> list[dict[str, Any]]:
        """Built when the API server asks: other components load plugins too, and need no app."""
        if self._apps is None:
            app = create_open_data_app()
            self._apps = [{"name": "ctdata_open_data", "app": app, "url_prefix": URL_PREFIX}]
        return self._apps

    def __init__(self) -> None:
        super().__init__()
        self._apps: list[dict[str, Any]] | None = None
