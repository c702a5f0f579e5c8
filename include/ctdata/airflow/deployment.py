"""The Airflow pool ctdata's DAGs need, made by the package itself where the metadata database
is at hand (a task in Airflow 3 cannot read pools).

The pool `socrata` (`CTDATA_SOCRATA_POOL`, `CTDATA_SOCRATA_POOL_SLOTS` slots) bounds concurrent
writes to the portal. A task on a pool that does not exist is never scheduled and waits unseen,
so a listener (plugin `ctdata_deployment`, registered by the package's entry point) creates it
when a scheduler (or DAG processor, triggerer) starts and whenever a run of a ctdata DAG starts
without it. `ctdata doctor` reports it (and the rest of what the DAGs need of Airflow:
`ctdata.cli.deployment`) and `--fix` creates it.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.listeners import hookimpl

from ctdata import settings
from ctdata.preflight import POOL_DESCRIPTION

try:
    from airflow.plugins_manager import AirflowPlugin
except ImportError:  # pragma: no cover - task SDK only
    from airflow.sdk.plugins_manager import AirflowPlugin  # type: ignore[no-redef]

log = logging.getLogger(__name__)

CTDATA_DAGS = ("usage_metrics", "inventories")  # besides every publish_<agency>


def ensure_pool(session: Any = None) -> bool:
    """Create the portal pool when it is missing; True when it was created. Given a session
    (the scheduler's, whose loop forbids commits), the row is inserted inside a savepoint on
    its connection and committed with the scheduler's own work."""
    from airflow.models.pool import Pool
    from sqlalchemy import insert, select

    config = settings.current()
    if session is None:
        from airflow.utils.session import create_session

        with create_session() as own:
            return ensure_pool(own)
    if session.scalar(select(Pool.id).where(Pool.pool == config.socrata_pool)) is not None:
        return False
    row = {"pool": config.socrata_pool, "slots": config.socrata_pool_slots,
           "description": POOL_DESCRIPTION, "include_deferred": False}  # fmt: skip
    with session.connection().begin_nested():  # a SAVEPOINT: a failure here stays here
        session.connection().execute(insert(Pool).values(**row))
    log.warning(
        "ctdata: created the Airflow pool %r with %s slots (it bounds concurrent writes to the "
        "portal; tasks on a missing pool would never run). Change its slots under Admin > Pools.",
        config.socrata_pool,
        config.socrata_pool_slots,
    )
    return True


class DeploymentListener:
    """Airflow listener: the pool exists whenever a scheduler, DAG processor or triggerer
    starts, and whenever a run of a ctdata DAG starts."""

    @hookimpl
    def on_starting(self, component: Any) -> None:
        # A Job (scheduler, DAG processor, triggerer: its type is not set yet at this point)
        # has the metadata database at hand; a task runner does not.
        if type(component).__name__ != "Job":
            return
        try:
            ensure_pool()
        except Exception:  # noqa: BLE001 - never stop a scheduler; doctor reports the pool
            log.exception("ctdata: could not check or create the pool")

    @hookimpl
    def on_dag_run_running(self, dag_run: Any, msg: str) -> None:
        dag_id = str(getattr(dag_run, "dag_id", ""))
        if not (dag_id.startswith("publish_") or dag_id in CTDATA_DAGS):
            return
        from sqlalchemy.orm import object_session

        try:
            ensure_pool(object_session(dag_run))
        except Exception:  # noqa: BLE001 - the scheduler's loop must go on
            log.exception("ctdata: could not check or create the pool for %s", dag_id)


class DeploymentPlugin(AirflowPlugin):
    """Registers the listener wherever the package is installed (entry point airflow.plugins)."""

    name = "ctdata_deployment"
    listeners = [DeploymentListener()]
