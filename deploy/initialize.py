"""One-shot set-up of a ctdata cluster: the compose file's `airflow-init` service, and the same
steps for the local-process deployment test. Every step can run again safely.

1. the settings every component needs are present and not the .env.example placeholders;
2. the ctdata state store: its PostgreSQL role and database when missing (made with
   the metadata database's account, which owns the server in the compose file), then its schema
   brought to this release by its migrations (`ctdata.store.upgrade_store`, as `ctdata doctor --upgrade`);
3. `airflow db migrate` (Airflow's tables and the FAB auth manager's);
4. the admin account (`AIRFLOW_ADMIN_USERNAME` / `AIRFLOW_ADMIN_PASSWORD`);
5. the pool bounding concurrent writes to the portal (`CTDATA_SOCRATA_POOL`, default `socrata`,
   with `CTDATA_SOCRATA_POOL_SLOTS`, default 4, slots);
6. the staging root (`CTDATA_STAGING_ROOT`): bucket created when missing, write checked;
7. every Airflow connection the agency specs and the usage metrics job name resolves (from the
   `AIRFLOW_CONN_*` environment variables or the metadata database).

Run: python deploy/initialize.py      (exit 1 with the reason when a step cannot be done)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

PLACEHOLDER = "change-me"
REQUIRED_SETTINGS = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "Airflow's metadata database",
    "AIRFLOW__CORE__FERNET_KEY": "encrypts connection passwords kept in the metadata database",
    "AIRFLOW__API_AUTH__JWT_SECRET": "signs the tokens of the REST API and of running tasks",
    "AIRFLOW__API__SECRET_KEY": "signs the UI's session cookies",
    "AIRFLOW_ADMIN_PASSWORD": "the Airflow admin account's password",
    "CTDATA_STATE_URL": "the ctdata state store (SQLAlchemy URL)",
    "CTDATA_STAGING_ROOT": "where tasks hand data to each other (s3://bucket/prefix)",
    "CTDATA_PSEUDONYM_KEY": "keys the hash that replaces identifiers in published records",
}
DEFAULT_POOL_SLOTS = 4
DATABASE_WAIT_S = 120.0


class InitError(Exception):
    """A step that cannot be done; the message says what to change."""


def check_settings(env: dict[str, str]) -> None:
    problems = [f"  {name}: {why}" for name, why in REQUIRED_SETTINGS.items() if not env.get(name)]
    problems += [
        f"  {name}: still the .env.example placeholder"
        for name, value in sorted(env.items())
        if PLACEHOLDER in value
    ]
    problems += [
        f"  {name}: the demo's key, published with the project (anyone holding it can reverse "
        "every pseudonymized record id by hashing the possible identifiers); use a secret one"
        for name, known in published_secrets().items()
        if env.get(name) == known
    ]
    if problems:
        raise InitError(
            "these settings are missing or unfinished:\n"
            + "\n".join(problems)
            + "\nSet them in .env (deploy/new-secrets.sh .env fills in the secrets)."
        )
    slots = env.get("CTDATA_SOCRATA_POOL_SLOTS", str(DEFAULT_POOL_SLOTS))
    if not slots.isdigit() or int(slots) < 1:
        raise InitError(f"CTDATA_SOCRATA_POOL_SLOTS must be a whole number >= 1, got {slots!r}")


def published_secrets() -> dict[str, str]:
    """Values of secret settings that are public knowledge: the demo's own."""
    from ctdata.demo.environment import DEMO_PSEUDONYM_KEY

    return {"CTDATA_PSEUDONYM_KEY": DEMO_PSEUDONYM_KEY}


def wait_for_database(url: str, timeout_s: float = DATABASE_WAIT_S) -> None:
    import sqlalchemy as sa

    from ctdata.store import redacted

    engine = sa.create_engine(url)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                with engine.connect():
                    return
            except sa.exc.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise InitError(f"database {redacted(url)} unreachable: {exc.orig}") from None
                time.sleep(2)
    finally:
        engine.dispose()


def ensure_state_database(state_url: str, admin_url: str) -> None:
    """Create the store's role and database on PostgreSQL when they are missing."""
    import sqlalchemy as sa

    from ctdata.store import redacted

    target = sa.engine.make_url(state_url)
    if target.get_backend_name() != "postgresql" or _can_connect(state_url):
        return
    admin = sa.engine.make_url(admin_url).set(drivername=target.drivername)
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    role, database = target.username or "", target.database or ""
    try:
        with engine.connect() as connection:
            if not connection.scalar(
                sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
            ):
                password = (target.password or "").replace("'", "''")
                connection.exec_driver_sql(
                    f"CREATE ROLE {_ident(role)} LOGIN PASSWORD '{password}'"
                )
            if not connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
            ):
                connection.exec_driver_sql(
                    f"CREATE DATABASE {_ident(database)} OWNER {_ident(role)}"
                )
    except sa.exc.SQLAlchemyError as exc:
        raise InitError(
            f"cannot reach {redacted(state_url)} and cannot create it as "
            f"{admin.username}: {exc.__cause__ or exc}. Create role {role!r} and database "
            f"{database!r} (owned by it) on that server, or fix CTDATA_STATE_URL."
        ) from None
    finally:
        engine.dispose()
    print(f"created the state store's database {redacted(state_url)}")


def _can_connect(url: str) -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def upgrade_state_store(state_url: str) -> None:
    """Bring the store's schema to this release (its migrations), once here rather than from
    several workers' first tasks."""
    from ctdata.store import redacted, release, upgrade_store

    applied = upgrade_store(state_url)
    release(state_url)
    print(f"state store {redacted(state_url)}: " + ("; ".join(applied) or "schema current"))


def migrate() -> None:
    """`airflow db migrate`: Airflow's tables and those of the FAB auth manager."""
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    done = subprocess.run([airflow, "db", "migrate"], capture_output=True, text=True)
    if done.returncode != 0:
        raise InitError(f"`airflow db migrate` failed:\n{done.stderr[-3000:]}")


def create_admin(env: dict[str, str]) -> None:
    """The first Admin account of the FAB auth manager (as `airflow users create` makes it)."""
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    username = env.get("AIRFLOW_ADMIN_USERNAME", "admin")
    email = env.get("AIRFLOW_ADMIN_EMAIL", f"{username}@example.invalid")
    with get_application_builder() as appbuilder:
        security = appbuilder.sm
        if security.find_user(username=username):
            return
        role = security.find_role("Admin")
        if not security.add_user(
            username, "Airflow", "Admin", email, role, env["AIRFLOW_ADMIN_PASSWORD"]
        ):
            raise InitError(f"could not create the admin account {username!r} ({email})")
    print(f"created the admin account {username!r}")


def create_pool(env: dict[str, str]) -> None:
    """The pool with the configured slots (also when it exists: `.env` is where they are set)."""
    from airflow.models.pool import Pool

    from ctdata import settings
    from ctdata.preflight import POOL_DESCRIPTION

    config = settings.current()
    Pool.create_or_update_pool(
        config.socrata_pool, config.socrata_pool_slots, POOL_DESCRIPTION, include_deferred=False
    )
    print(f"pool {config.socrata_pool!r}: {config.socrata_pool_slots} slots")


def check_staging(root: str) -> None:
    from airflow.sdk import ObjectStoragePath

    path = ObjectStoragePath(root)
    probe = path / f".ctdata-init-{uuid.uuid4().hex}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        probe.unlink()
    except Exception as exc:  # noqa: BLE001 - any storage error is reported the same way
        raise InitError(
            f"staging root {root} is not writable ({type(exc).__name__}: {exc}); check "
            "CTDATA_STAGING_ROOT and the AWS_* settings in .env"
        ) from None
    print(f"staging root {root}: writable")


def check_connections() -> None:
    """Every connection the specs, usage_metrics and inventories name resolves (the checks of
    `ctdata doctor`)."""
    from airflow.models.connection import Connection

    from ctdata.metrics.config import load_metrics_config
    from ctdata.preflight import connection_findings, needed_connections
    from ctdata.specs import load_all
    from ctdata.specs.registers import load_registers_config

    specs = load_all()
    for error in specs.errors:
        print(f"warning: invalid agency spec (its DAG will not load): {error}", file=sys.stderr)
    extra = {load_metrics_config().socrata_conn_id: "usage_metrics"}
    registers = load_registers_config().socrata_conn_id
    extra[registers] = ", ".join(filter(None, [extra.get(registers), "inventories"]))
    needed = needed_connections(specs.agencies, extra)
    problems = connection_findings(needed, Connection.get_connection_from_secrets)
    if problems:
        raise InitError(
            "connections missing or unusable:\n" + "\n".join(f"  {p}" for p in problems)
        )
    print(f"connections: {', '.join(sorted(needed))} resolve")


def main() -> int:
    env = dict(os.environ)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("settings", lambda: check_settings(env)),
        ("metadata database", lambda: wait_for_database(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])),
        ("state store", lambda: ensure_state_database(
            env["CTDATA_STATE_URL"], env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])),
        ("state store schema", lambda: upgrade_state_store(env["CTDATA_STATE_URL"])),
        ("airflow migrations", migrate),
        ("admin account", lambda: create_admin(env)),
        ("pool", lambda: create_pool(env)),
        ("staging", lambda: check_staging(env["CTDATA_STAGING_ROOT"])),
        ("connections", check_connections),
    ]  # fmt: skip
    for name, step in steps:
        started = time.monotonic()
        try:
            step()
        except InitError as exc:
            print(f"airflow-init: {name}: {exc}", file=sys.stderr)
            return 1
        print(f"airflow-init: {name} done ({time.monotonic() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
