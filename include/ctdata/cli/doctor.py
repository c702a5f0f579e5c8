"""`ctdata doctor`: check a deployment (the Airflow the environment points at: AIRFLOW_HOME or
AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, and the CTDATA_* settings) for everything ctdata's DAGs
need, printing one line per problem with its fix and exiting 1 when there is any.

Checked: Airflow's metadata database; the DAG folder holds the project's DAG files; the
`socrata` pool; every connection the specs, usage_metrics and inventories name; the state
store (reachable, schema current); the staging root (writable); the reviewers (users the auth
manager knows); every spec (valid, metadata to the standard, suites that load, aggregation
outputs declared, pseudonym keys set). `--fix` creates the pool; `--upgrade` brings the state
store's schema up to date.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ctdata.cli.output import echo, echo_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="check a deployment for what the DAGs need (exit 1, one line per problem)",
        description=__doc__.split(":", 1)[1].strip(),
    )
    p.add_argument("--fix", action="store_true", help="create the pool when it is missing")
    p.add_argument("--upgrade", action="store_true", help="upgrade the state store's schema")
    p.add_argument("--json", action="store_true", help="the problems as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ctdata import settings
    from ctdata.store import redacted

    done: list[str] = []
    if args.upgrade:
        from ctdata.store import upgrade_store

        url = settings.current().state_url
        applied = upgrade_store(url)
        done.append(f"state store {redacted(url)}: " + ("; ".join(applied) or "already current"))
    if args.fix:
        from ctdata.cli.deployment import create_pool

        created = create_pool()
        name = settings.current().socrata_pool
        done.append(f"pool {name!r}: {'created' if created else 'exists'}")
    findings = checked()
    if args.json:
        echo_json({"done": done, "problems": [vars(f) | {"line": str(f)} for f in findings]})
    else:
        for line in done:
            echo(f"done: {line}")
        for finding in findings:
            echo(str(finding))
        names = ", ".join(name for name, _ in CHECKS)
        echo(f"{len(findings)} problem(s)" if findings else f"No problems ({names}).")
    return 1 if findings else 0


def checked() -> list[Any]:
    """Every check's findings; a check that cannot run is itself a problem, and without a
    metadata database the checks that read it are skipped."""
    from ctdata.errors import CtDataError
    from ctdata.preflight import Finding

    findings: list[Any] = []
    database = True
    for name, check in CHECKS:
        if not database and name in NEEDS_DATABASE:
            continue
        try:
            findings += check()
        except _Stop as stop:
            findings += stop.findings
            database = False
        except CtDataError as exc:
            findings.append(Finding(name, str(exc).replace("\n", " "), "see the message"))
    return findings


def _airflow_database() -> list[Any]:
    """Airflow's metadata database answers and is migrated (its pools table is readable)."""
    import sqlalchemy as sa

    from ctdata.preflight import Finding

    try:
        from airflow.models.pool import Pool

        Pool.get_pool("default_pool")
    except sa.exc.SQLAlchemyError as exc:
        from airflow.configuration import conf

        url = conf.get("database", "sql_alchemy_conn", fallback="?")
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise _Stop([Finding(f"Airflow's metadata database {_safe(url)}", f"cannot be read "
                             f"({reason})", "run `airflow db migrate` (with this AIRFLOW_HOME "
                             "or AIRFLOW__DATABASE__SQL_ALCHEMY_CONN)")]) from None  # fmt: skip
    return []


class _Stop(Exception):
    def __init__(self, findings: list[Any]) -> None:
        self.findings = findings


def _safe(url: str) -> str:
    from ctdata.store import redacted

    try:
        return redacted(url)
    except Exception:  # noqa: BLE001 - not a URL: show nothing of it
        return "(unparsable URL)"


def _dags_folder() -> list[Any]:
    from ctdata.cli.deployment import dags_folder_findings

    return dags_folder_findings()


def _pool() -> list[Any]:
    from ctdata.cli.deployment import pool_findings

    return pool_findings()


def _reviewers() -> list[Any]:
    from ctdata.cli.deployment import reviewer_findings

    return reviewer_findings()


def _specs() -> list[Any]:
    from ctdata import settings
    from ctdata.preflight import Finding, dataset_findings
    from ctdata.specs import load_all

    config = settings.current()
    for name, folder in (("CTDATA_AGENCIES_DIR", config.agencies_dir),
                         ("CTDATA_EXPECTATIONS_DIR", config.expectations_dir)):  # fmt: skip
        if not folder.is_dir():
            return [Finding(f"folder {folder}", "does not exist",
                            f"set {name} to the project's folder (see README, 'Add it to an "
                            "existing Airflow')")]  # fmt: skip
    specs = load_all()
    if not specs.agencies and not specs.errors:
        return [
            Finding(
                f"folder {config.agencies_dir}",
                "holds no agency spec",
                "add include/agencies/<code>.yaml (README, 'Your first agency')",
            )
        ]
    found = [Finding("agency spec", str(e).replace("\n", " "), "fix it; `ctdata lint` lists "
                     "every problem") for e in specs.errors]  # fmt: skip
    for agency in specs.agencies:
        for dataset in agency.datasets:
            if dataset.retire is None:
                found += dataset_findings(
                    agency, dataset, settings.current().expectations_dir,
                    get_connection=_connection, load_suites=True,
                )  # fmt: skip
    return found


def _connection(conn_id: str) -> Any:
    from airflow.models.connection import Connection

    return Connection.get_connection_from_secrets(conn_id)


def _connections() -> list[Any]:
    from ctdata.metrics.config import load_metrics_config
    from ctdata.preflight import connection_findings, needed_connections
    from ctdata.specs import load_all
    from ctdata.specs.registers import load_registers_config

    extra = {load_metrics_config().socrata_conn_id: "usage_metrics"}
    registers = load_registers_config().socrata_conn_id
    extra[registers] = ", ".join(filter(None, [extra.get(registers), "inventories"]))
    needed = needed_connections(load_all().agencies, extra)
    return connection_findings({k: v for k, v in needed.items() if v.portal}, _connection)


def _state_store() -> list[Any]:
    from ctdata import settings
    from ctdata.preflight import state_store_findings

    return state_store_findings(settings.current().state_url)


def _staging() -> list[Any]:
    from airflow.sdk import ObjectStoragePath

    from ctdata import settings
    from ctdata.preflight import staging_findings

    return staging_findings(settings.current().staging_root, ObjectStoragePath)


CHECKS: list[tuple[str, Callable[[], list[Any]]]] = [
    ("metadata database", _airflow_database),
    ("DAG folder", _dags_folder),
    ("pool", _pool),
    ("connections", _connections),
    ("state store", _state_store),
    ("staging root", _staging),
    ("reviewers", _reviewers),
    ("specs", _specs),
]
NEEDS_DATABASE = frozenset({"pool", "connections", "reviewers"})
