"""What ctdata's DAGs need of the Airflow they run in, made or checked on the Airflow side, where
the metadata database is at hand (a task in Airflow 3 cannot read pools or users).

- The pool `socrata` (`CTDATA_SOCRATA_POOL`, `CTDATA_SOCRATA_POOL_SLOTS` slots) bounds
  concurrent writes to the portal. A task on a pool that does not exist is never scheduled and
  waits unseen, so the package creates the pool itself: a listener (plugin `ctdata_deployment`,
  registered by the package's entry point) creates it when a scheduler (or DAG processor,
  triggerer) starts and whenever a run of a ctdata DAG starts without it. `ctdata doctor` reports it and `--fix` creates it.
- The reviewers (`CTDATA_REVIEWERS`) must be user ids the auth manager knows, as it spells
  them: a review assigned to nobody who exists waits until it times out.
- The DAG folder must hold the project's DAG files.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from airflow.listeners import hookimpl

from ctdata import settings
from ctdata.preflight import Finding

try:
    from airflow.plugins_manager import AirflowPlugin
except ImportError:  # pragma: no cover - task SDK only
    from airflow.sdk.plugins_manager import AirflowPlugin  # type: ignore[no-redef]

log = logging.getLogger(__name__)

POOL_DESCRIPTION = "Concurrent writes to the Socrata portal, all agencies together (ctdata)"
DAG_FILES = ("publish_agencies.py",)  # usage_metrics.py and inventories.py are optional
CTDATA_DAGS = ("usage_metrics", "inventories")  # besides every publish_<agency>


def pool_fix() -> str:
    config = settings.current()
    return (f"airflow pools set {config.socrata_pool} {config.socrata_pool_slots} "
            f"'{POOL_DESCRIPTION}' (or `ctdata doctor --fix`)")  # fmt: skip


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


def pool_findings() -> list[Finding]:
    from airflow.models.pool import Pool

    name = settings.current().socrata_pool
    pool = Pool.get_pool(name)
    subject = f"pool {name!r}"
    if pool is None:
        return [Finding(subject, "does not exist: tasks that write to the portal would be "
                        "queued forever", pool_fix())]  # fmt: skip
    if pool.slots == 0:
        return [Finding(subject, "has 0 slots: tasks that write to the portal never start",
                        f"airflow pools set {name} 4 '{POOL_DESCRIPTION}'")]  # fmt: skip
    return []


def dags_folder_findings() -> list[Finding]:
    """The configured DAG folder (or one of its subfolders) holds the project's DAG files."""
    from airflow.configuration import conf

    folder = Path(conf.get("core", "dags_folder")).expanduser()
    missing = (
        [name for name in DAG_FILES if not any(folder.rglob(name))]
        if folder.is_dir()
        else [*DAG_FILES]
    )
    if not missing:
        return []
    dags = settings.PROJECT_ROOT / "dags"
    return [Finding(f"DAG folder {folder}", f"does not hold {', '.join(missing)}",
                    f"export AIRFLOW__CORE__DAGS_FOLDER={dags} (or copy {dags}/*.py "
                    "into the DAG folder)")]  # fmt: skip


def reviewer_findings() -> list[Finding]:
    """Every CTDATA_REVIEWERS id is a user of the auth manager, as the manager spells ids."""
    reviewers = settings.current().reviewers
    if not reviewers:
        return []
    users = _known_user_ids()
    if users is None:  # an auth manager this check cannot read: nothing to say
        return []
    found = []
    for reviewer in reviewers:
        if reviewer in users:
            continue
        by_name = users.get_by_name(reviewer) if hasattr(users, "get_by_name") else None
        fix = (f"use its user id {by_name!r} in CTDATA_REVIEWERS" if by_name else
               "create the account (Security > Users) or fix CTDATA_REVIEWERS")  # fmt: skip
        found.append(Finding(f"reviewer {reviewer!r}", "is not a user id the auth manager "
                             "knows: reviews assigned to it can never be answered", fix))  # fmt: skip
    return found


class _FabUsers(dict):
    """FAB's users by id (a number, which HITL assignments use), findable by name."""

    def get_by_name(self, name: str) -> str | None:
        return next((user_id for user_id, user in self.items() if user == name), None)


def _known_user_ids() -> Any:
    from airflow.configuration import conf

    manager = conf.get("core", "auth_manager", fallback="")
    if manager.endswith("SimpleAuthManager"):
        if conf.getboolean("core", "simple_auth_manager_all_admins", fallback=False):
            return None
        spec = conf.get("core", "simple_auth_manager_users", fallback="")
        return {part.split(":")[0].strip() for part in spec.split(",") if part.strip()}
    if manager.endswith("FabAuthManager"):
        from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

        with get_application_builder() as appbuilder:
            return _FabUsers({str(u.id): u.username for u in appbuilder.sm.get_all_users()})
    return None


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
