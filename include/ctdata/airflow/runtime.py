"""What the Airflow front door gives the library: the run a task works in (`task_run`), built
once per task from the task's context, with staging on Airflow's object storage, source
connections and portal clients from Airflow's connections.

Tasks receive the agency code and dataset slug, never a path fixed at parse time: each worker
finds the spec in its own agencies folder (workers and DAG bundles may see other paths).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ctdata.connections import SourceConnection
    from ctdata.pipeline.run import AgencyRun
    from ctdata.portal.client import SocrataClient
    from ctdata.specs import AgencySpec
    from ctdata.staging import Staging


def task_run(context: Any, agency_code: str, slug: str | None) -> AgencyRun:
    """The run of the task in `context`: a `DatasetRun` of the agency's dataset `slug`, or the
    `AgencyRun` of a step that serves the whole agency (`slug` None). The spec is read once."""
    from ctdata.airflow.dry_run import is_dry_run
    from ctdata.pipeline.run import AgencyRun, PortalClients

    run = AgencyRun(
        agency=agency_spec(agency_code),
        run_id=str(context["run_id"]),
        dag_id=str(context["dag"].dag_id),
        staging=airflow_staging(),
        portals=PortalClients(portal_client),
        connections=airflow_connection,
        attempt=int(context["ti"].try_number or 1),
        run_date=run_date(context),
        scheduled_for=scheduled_for(context.get("dag_run")),
        dry_run=is_dry_run(context),
    )
    return run if slug is None else run.dataset_run(slug)


def agency_spec(code: str) -> AgencySpec:
    """The agency's spec as this worker's agencies folder holds it."""
    from ctdata import settings
    from ctdata.specs import load_agency

    path = settings.current().agencies_dir / f"{code}.yaml"
    return load_agency(path, skip_invalid_datasets=True)  # another dataset's typo is not ours


def run_date(context: Any) -> dt.date:
    """The run's date on the state's clock: the end of its data interval (or its logical date;
    a manual run without one: now). Rerunning a run replays its date."""
    from ctdata.clock import state_date

    return state_date(context.get("data_interval_end") or context.get("logical_date"))


def scheduled_for(dag_run: Any) -> dt.datetime | None:
    """When the schedule asked for this run; None for a run triggered by hand."""
    if not str(getattr(dag_run, "run_type", "")).lower().endswith("scheduled"):
        return None
    return dag_run.run_after or dag_run.logical_date or dt.datetime.now(dt.UTC)


def airflow_staging() -> Staging:
    """The staging area, reached through ObjectStoragePath (object storage credentials come
    from Airflow connections)."""
    from airflow.sdk import ObjectStoragePath

    from ctdata.staging import Staging

    return Staging(open_path=ObjectStoragePath)


def airflow_connection(conn_id: str) -> SourceConnection:
    """A source connection from Airflow (metadata DB, secrets backends, AIRFLOW_CONN_*); an
    HTTP API's requests go through the HTTP provider's hook (ctdata.airflow.http)."""
    import dataclasses

    from airflow.sdk import BaseHook

    from ctdata.airflow.http import hook_transport
    from ctdata.connections import SourceConnection

    connection = SourceConnection.from_airflow(BaseHook.get_connection(conn_id))
    return dataclasses.replace(connection, http=hook_transport(conn_id))


def portal_client(conn_id: str) -> SocrataClient:
    """A retrying portal client for the Socrata connection `conn_id`."""
    from ctdata.airflow.hooks import SocrataHook

    return SocrataHook(conn_id).get_client()
