"""What ctdata's DAGs need of the Airflow they run in, checked by `ctdata doctor` through
Airflow's own models where the metadata database is at hand (a task in Airflow 3 cannot read
pools or users).

- The pool `socrata` (`CTDATA_SOCRATA_POOL`) bounds concurrent writes to the portal: a task on
  a pool that does not exist is never scheduled and waits unseen. The package's plugin creates
  it (`ctdata.airflow.deployment`); `ctdata doctor` reports it and `--fix` creates it.
- The reviewers (`CTDATA_REVIEWERS`) must be user ids the auth manager knows, as it spells
  them: a review assigned to nobody who exists waits until it times out.
- The DAG folder must hold the project's DAG files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ctdata import settings
from ctdata.preflight import POOL_DESCRIPTION, Finding

DAG_FILES = ("publish_agencies.py",)  # usage_metrics.py and inventories.py are optional


def pool_fix() -> str:
    config = settings.current()
    return (f"airflow pools set {config.socrata_pool} {config.socrata_pool_slots} "
            f"'{POOL_DESCRIPTION}' (or `ctdata doctor --fix`)")  # fmt: skip


def create_pool() -> bool:
    """Create the portal pool when it is missing (`ctdata doctor --fix`); True when created."""
    from airflow.models.pool import Pool

    config = settings.current()
    if Pool.get_pool(config.socrata_pool) is not None:
        return False
    Pool.create_or_update_pool(
        config.socrata_pool, config.socrata_pool_slots, POOL_DESCRIPTION, include_deferred=False
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
