"""`make demo`: every agency DAG through `airflow dags test` against the local portal stand-in,
then a summary table of what reached the portal."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ctdata import settings
from ctdata.demo.environment import ADMIN, APP_TOKEN, PUBLISHER, LocalSetup
from ctdata.demo.privacy import audit_summary
from ctdata.demo.review import lifecycle_summary, publish_with_reviews, review_outcome
from ctdata.lifecycle.portal_metadata import seed_entry
from ctdata.lifecycle.registry import resolve_portal_id
from ctdata.specs import AgencySpec, load_all


def portal_seed(agencies: list[AgencySpec], portal_dir: Path | None = None) -> dict[str, Any]:
    """Datasets as a portal administrator creates them before an agency's first publish: the
    agencies' and the usage metrics job's. Datasets the portal already holds are left alone, so
    a rerun finds the portal as the previous run left it."""
    from ctdata.metrics.config import portal_seed_entries
    from ctdata.specs.registers import load_registers_config

    entries = [
        seed_entry(agency, dataset, owner=PUBLISHER[0])
        for agency in agencies
        for dataset in agency.datasets
        if dataset.portal_id is not None  # the others the pipeline creates (onboarding)
    ]
    entries += portal_seed_entries(PUBLISHER[0])
    registers = load_registers_config().agency()
    entries += [seed_entry(registers, dataset, PUBLISHER[0]) for dataset in registers.datasets]
    entries += run_log_seed_entries(PUBLISHER[0])
    existing = _existing_datasets(portal_dir) if portal_dir else set()
    return {"datasets": [e for e in entries if e["id"] not in existing]}


def run_log_seed_entries(owner: str) -> list[dict[str, Any]]:
    """The pipeline's run-log dataset (ctdata.monitoring.run_log), when one is configured."""
    from ctdata.monitoring.run_log import run_log_agency

    if not settings.current().run_log_dataset_id:
        return []
    agency = run_log_agency()
    return [seed_entry(agency, agency.datasets[0], owner=owner)]


def _existing_datasets(portal_dir: Path) -> set[str]:
    from socrata_emulator.store import Store

    if not any(portal_dir.glob("*")):
        return set()
    store = Store(portal_dir)
    try:
        return set(store.datasets)
    finally:
        store.close()


def run_dag(
    setup: LocalSetup, env: dict[str, str], dag_id: str, airflow: Sequence[str] = ()
) -> tuple[bool, Path]:
    """`airflow dags test DAG_ID`, logging to var/logs/<dag_id>.log (`airflow`: the command
    that stands for Airflow's, the environment's own by default)."""
    log = setup.logs_dir / f"{dag_id}.log"
    command = [*(airflow or [str(Path(sys.executable).with_name("airflow"))]), "dags", "test"]
    with log.open("w") as handle:
        done = subprocess.run([*command, dag_id], env=env, stdout=handle, stderr=subprocess.STDOUT)
    return done.returncode == 0 and dag_run_state(setup, dag_id) == "success", log


def dag_run_state(setup: LocalSetup, dag_id: str) -> str | None:
    row = _airflow_query(
        setup, "SELECT state FROM dag_run WHERE dag_id = :dag ORDER BY id DESC LIMIT 1", dag=dag_id
    )
    return row[0][0] if row else None


def latest_xcoms(setup: LocalSetup, dag_id: str) -> dict[str, Any]:
    """Return values of the latest run's tasks, by task id (the small summaries tasks return)."""
    rows = _airflow_query(
        setup,
        "SELECT x.task_id, x.value FROM xcom x WHERE x.dag_id = :dag AND x.key = 'return_value' "
        "AND x.run_id = (SELECT run_id FROM dag_run WHERE dag_id = :dag ORDER BY id DESC LIMIT 1)",
        dag=dag_id,
    )
    values: dict[str, Any] = {}
    for task_id, value in rows:
        decoded = json.loads(value) if isinstance(value, (str, bytes)) else value
        values[task_id] = json.loads(decoded) if isinstance(decoded, str) else decoded
    return values


def _airflow_query(setup: LocalSetup, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(f"sqlite:///{setup.airflow_home / 'airflow.db'}")
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


@dataclass
class DatasetOutcome:
    agency: str
    dataset: str
    portal_id: str
    rows_on_portal: int | None
    changes: str
    suppressed: str
    validation: str
    url: str
    review: str = "-"


def summarize(
    setup: LocalSetup, agencies: list[AgencySpec], portal_url: str, client: Any
) -> list[DatasetOutcome]:
    outcomes = []
    for agency in agencies:
        xcoms = latest_xcoms(setup, agency.dag_id)
        for dataset in agency.datasets:
            tasks = {
                k.split(".", 1)[1]: v for k, v in xcoms.items() if k.startswith(dataset.slug + ".")
            }
            outcomes.append(_outcome(agency, dataset, tasks, portal_url, client))
    return outcomes


def _outcome(
    agency, dataset, tasks: dict[str, Any], portal_url: str, client: Any
) -> DatasetOutcome:
    checks = [tasks.get("validate_source"), tasks.get("validate_publishable")]
    if all(c and c.get("success") for c in checks):
        validation = "passed"
    else:
        validation = "FAILED" if any(c for c in checks) else "not run"
    prepared = tasks.get("aggregate_and_suppress") or tasks.get("prepare_records") or {}
    published = tasks.get("publish") or {}
    suppressed = (
        f"{prepared.get('cells_suppressed', 0)} ({prepared.get('primary', 0)}+"
        f"{prepared.get('complementary', 0) + prepared.get('sticky', 0)})"
        if "aggregate_and_suppress" in tasks
        else "-"
    )
    changes = (
        f"+{published.get('created', 0)} ~{published.get('updated', 0)} -{published.get('deleted', 0)}"
        if published
        else "not published"
    )
    portal_id = resolve_portal_id(agency.code, dataset) or "-"
    count = client.get(portal_id, select="count(*) AS n") if portal_id != "-" else None
    return DatasetOutcome(
        agency=agency.code,
        dataset=dataset.slug,
        portal_id=portal_id,
        rows_on_portal=int(count[0]["n"]) if count else None,
        changes=changes,
        suppressed=suppressed,
        validation=validation,
        url=f"{portal_url}/d/{portal_id}",
        review=review_outcome(tasks.get("review")),
    )


def format_table(outcomes: list[DatasetOutcome]) -> str:
    header = [
        "agency",
        "dataset",
        "rows on portal",
        "sent (+new ~changed -deleted)",
        "cells suppressed",
        "validation",
        "review",
        "portal URL",
    ]
    rows = [
        [
            o.agency,
            o.dataset,
            str(o.rows_on_portal),
            o.changes,
            o.suppressed,
            o.validation,
            o.review,
            o.url,
        ]  # fmt: skip
        for o in outcomes
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


@contextmanager
def local_portal(
    setup: LocalSetup, agencies: list[AgencySpec], *, reviewed: bool = True
) -> Iterator[Any]:
    """The portal stand-in on a free loopback port, with the publishing account, an
    administrator and the agencies' datasets (see `portal_seed`). The site analytics dataset is
    shared with the publishing account, which the usage metrics job signs in as.

    `reviewed` records in the setup's state store that OPM approved every dataset as its spec
    stands, so runs publish without waiting for a reviewer; the demo and the review tests pass
    False and answer the reviews through Airflow's REST API."""
    from socrata_emulator.testing import run_emulator

    if reviewed:
        record_reviews(setup, agencies)

    with run_emulator(
        setup.portal_dir,
        users=[":".join(PUBLISHER)],
        admins=[":".join(ADMIN)],
        app_tokens=[APP_TOKEN],
        seed=portal_seed(agencies, setup.portal_dir),
        analytics_viewers=[PUBLISHER[0]],
    ) as portal:
        yield portal


def record_reviews(setup: LocalSetup, agencies: list[AgencySpec]) -> None:
    from ctdata.lifecycle.registry import DatasetRegistry
    from ctdata.lifecycle.review import record_prior_approval

    registry = DatasetRegistry(setup.state_url)
    for agency in agencies:
        record_prior_approval(agency, "setup", "approved before the run (test setup)", registry)
    registry.dispose()


def main() -> int:
    from socrata_emulator.testing import sodapy_client

    setup = LocalSetup(settings.current().var_dir)
    specs = load_all()
    for error in specs.errors:
        print(f"warning: skipped an invalid agency spec: {error}", file=sys.stderr)
    print(f"Preparing the embedded setup in {setup.var_dir} (Airflow home, source databases)...")
    applied = setup.prepare()
    print(f"State store {setup.state_url}: " + ("; ".join(applied) or "schema current"))
    with local_portal(setup, specs.agencies, reviewed=False) as portal:
        print(f"Portal stand-in on {portal.url} (data in {setup.portal_dir})")
        env = setup.env("127.0.0.1", portal.port)
        failed = publish_with_reviews(setup, env, specs.agencies)
        client = sodapy_client(
            portal, username=PUBLISHER[0], password=PUBLISHER[1], app_token=APP_TOKEN
        )
        print()
        print(format_table(summarize(setup, specs.agencies, portal.url, client)))
        print()
        print(lifecycle_summary(specs.agencies, client))
        print()
        privacy, disclosed = audit_summary(specs.agencies, portal.url)
        print(privacy)
        if disclosed:
            failed.append("the attacker model found disclosed groups")
        print()
        report = run_usage_metrics(setup, env, specs.agencies, portal.url)
        if report is None:
            failed.append("usage_metrics")
        failed += run_inventories_and_retirement(setup, env, client)
    print()
    if failed or specs.errors:
        print(f"Demo FAILED: {', '.join(failed) or 'invalid agency specs'}", file=sys.stderr)
        return 1
    print(f"Usage report: {report}")
    print("Demo succeeded. Open the Airflow UI on the same setup: see README, 'Airflow UI'.")
    return 0


def run_usage_metrics(
    setup: LocalSetup, env: dict[str, str], agencies: list[AgencySpec], portal_url: str
) -> str | None:
    """Visit the published datasets over HTTP as the public would, then run the nightly job."""
    from ctdata.demo.traffic import generate_traffic

    found = [resolve_portal_id(a.code, d) for a in agencies for d in a.datasets]
    dataset_ids = [portal_id for portal_id in found if portal_id]
    traffic = generate_traffic(portal_url, dataset_ids, seed=0, max_requests=300)
    visits = {
        k: sum(v.get(kind, 0) for v in traffic.values())
        for k, kind in (("views", "views"), ("downloads", "downloads"), ("api calls", "api_calls"))
    }
    print("Generated traffic: " + ", ".join(f"{n} {k}" for k, n in visits.items()))
    started = time.monotonic()
    ok, log = run_dag(setup, env, "usage_metrics")
    status = "ok" if ok else f"FAILED, see {log}"
    print(f"  airflow dags test usage_metrics: {status} ({time.monotonic() - started:.0f} s)")
    if not ok:
        return None
    report = latest_xcoms(setup, "usage_metrics").get("report") or {}
    return str(report.get("path") or setup.reports_dir / "usage-latest.html")


def run_inventories_and_retirement(
    setup: LocalSetup, env: dict[str, str], client: Any
) -> list[str]:
    """The yearly inventories, then one dataset retiring; returns what failed."""
    from ctdata.demo.retirement import run_retirement

    print()
    started = time.monotonic()
    ok, log = run_dag(setup, env, "inventories")
    status = "ok" if ok else f"FAILED, see {log}"
    print(f"  airflow dags test inventories: {status} ({time.monotonic() - started:.0f} s)")
    failed = [] if ok else ["inventories"]
    for path in (latest_xcoms(setup, "inventories").get("spreadsheets") or {}).get("paths", []):
        print(f"    {path}")
    print()
    if not run_retirement(setup, env, client):
        failed.append("retirement")
    return failed
