"""Benchmark: the Open Data view at the state's scale, 200 agencies x 5 datasets with two years
of nightly runs (730 per dataset, 6 recorded steps each) and of daily usage figures.

    .venv/bin/python bench/ui.py [--agencies 200] [--days 730] [--repeat 15]

Serves the pages and the JSON API through the FastAPI app in-process (warm: after three
requests), on SQLite, and prints median milliseconds with the targets beside them: overview
< 300 ms, dataset page < 150 ms. Side by side, two baselines measured the same way: the app
answering a constant (the HTTP stack's floor) and the latest run per dataset found by scanning
the run history, what the overview would cost without the ledger's latest-run table. Exits 1
when a target is missed. Airflow's token check is not included (it is the same for every page).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from sqlalchemy import func, insert, select

from ctdata import settings

TARGETS_MS = {"overview page": 300.0, "dataset page": 150.0}
FREQUENCIES = ["Daily", "Daily", "Weekly", "Monthly", "Annually"]
STEPS = ("extract", "validate_source", "aggregate_and_suppress", "validate_publishable",
         "publish", "sync_metadata")  # fmt: skip
NOW = dt.datetime(2026, 6, 30, 16, 0, tzinfo=dt.UTC)


def write_specs(folder: Path, agencies: int) -> list[str]:
    template = yaml.safe_load((settings.PROJECT_ROOT / "include/agencies/opm.yaml").read_text())
    dataset = template["datasets"][0]
    ids = []
    for a in range(agencies):
        code = f"agency{a:03d}"
        datasets = []
        for d, frequency in enumerate(FREQUENCIES):
            entry = yaml.safe_load(yaml.safe_dump(dataset))
            portal_id = f"a{a:03d}-d{d:03d}"
            entry.update(slug=f"dataset_{d}", portal_id=portal_id)
            entry["metadata"]["update_frequency"] = frequency
            entry["metadata"]["title"] = f"Dataset {d} of agency {a}"
            datasets.append(entry)
            ids.append(portal_id)
        plan = [{"title": f"Dataset {d}", "portal_id": f"a{a:03d}-d{d:03d}"} for d in range(5)]
        raw = {**template, "code": code, "name": f"Agency {a:03d}", "datasets": datasets,
               "access_plan": plan}  # fmt: skip
        (folder / f"{code}.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return ids


def fill_ledger(url: str, ids: list[str], days: int) -> int:
    """`days` nightly runs per dataset, every step recorded; a few runs fail."""
    from ctdata.monitoring.ledger import Ledger, latest, runs

    ledger = Ledger(url)
    rng = random.Random(7)
    summary = json.dumps({"success": True, "evaluated": 12, "failed": 0, "outcomes": []})
    pk = 0
    with ledger.engine.begin() as conn:
        for dataset_id in ids:
            agency = f"agency{dataset_id[1:4]}"
            run_rows, step_rows, last_success = [], [], None
            for day in range(days):
                pk += 1
                started = NOW - dt.timedelta(days=days - day, hours=-10)
                failed = rng.random() < 0.02
                run_rows.append({
                    "id": pk, "dataset_id": dataset_id, "agency": agency,
                    "slug": f"dataset_{int(dataset_id[-3:])}", "dag_id": f"publish_{agency}",
                    "run_id": f"scheduled__{started.isoformat()}", "started": started,
                    "finished": started + dt.timedelta(minutes=3),
                    "status": "failed" if failed else "succeeded",
                    "failed_step": "publish" if failed else None,
                    "reason": "The portal kept failing" if failed else None,
                    "created": rng.randint(0, 50), "updated": rng.randint(0, 500),
                    "deleted": rng.randint(0, 5), "bytes_sent": rng.randint(1000, 10**6),
                    "cells_suppressed": 40, "primary_suppressed": 30,
                    "complementary_suppressed": 10, "audit_passed": True,
                    "validation_passed": True, "expectations_failed": 0,
                })  # fmt: skip
                last_success = last_success if failed else pk
                stamp = started.strftime("%Y-%m-%d %H:%M:%S.%f")
                step_rows += [(pk, step, "succeeded", 1, stamp, summary) for step in STEPS]
            conn.execute(insert(runs), run_rows)
            conn.exec_driver_sql(  # plain tuples: ~5 million rows load in a minute or two
                "INSERT INTO monitor_steps (run_pk, step, status, attempt, finished, summary) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                step_rows,
            )
            conn.execute(insert(latest).values(dataset_id=dataset_id, last_run=pk,
                                               last_success=last_success))  # fmt: skip
    ledger.dispose()
    return pk


def fill_usage(url: str, ids: list[str], days: int) -> int:
    from ctdata.metrics.history import UsageHistory, daily, snapshots

    store = UsageHistory(url)
    today = NOW.date()
    rows = 0
    with store.engine.begin() as conn:
        for dataset_id in ids:
            batch = [{
                "date": today - dt.timedelta(days=back), "dataset_id": dataset_id, "name": "x",
                "agency": "x", "views": back % 17, "downloads": back % 5, "api_calls": back % 11,
                "views_total": 0, "downloads_total": 0, "api_calls_total": 0, "filled": False,
                "freshness": "on time", "days_overdue": 0, "missing_metadata": "[]",
                "measured_on": today,
            } for back in range(days)]  # fmt: skip
            conn.execute(insert(daily), batch)
            rows += len(batch)
        conn.execute(insert(snapshots), [{
            "snapshot_date": today, "dataset_id": i, "name": "x", "agency": "x",
            "automated": True, "update_frequency": "Daily", "missing_metadata": "[]",
            "freshness": "on time", "days_overdue": 0, "views_total": 0, "downloads_total": 0,
            "collected_at": NOW,
        } for i in ids])  # fmt: skip
    store.dispose()
    return rows


def median_ms(call: Callable[[], object], repeat: int) -> float:
    for _ in range(3):
        call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def history_scan(url: str) -> Callable[[], object]:
    """Baseline: the latest and latest successful run of every dataset from the history."""
    from ctdata.monitoring.ledger import Ledger, runs

    engine = Ledger(url).engine
    last = select(runs.c.dataset_id, func.max(runs.c.id)).group_by(runs.c.dataset_id)
    good = last.where(runs.c.status == "succeeded")

    def scan() -> object:
        with engine.connect() as conn:
            return conn.execute(last).all(), conn.execute(good).all()

    return scan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=200)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        agencies_dir = Path(tmp) / "agencies"
        agencies_dir.mkdir()
        url = f"sqlite:///{Path(tmp) / 'state.db'}"
        os.environ.update(CTDATA_AGENCIES_DIR=str(agencies_dir), CTDATA_STATE_URL=url)
        started = time.perf_counter()
        ids = write_specs(agencies_dir, args.agencies)
        runs_written = fill_ledger(url, ids, args.days)
        usage_rows = fill_usage(url, ids, args.days)
        print(f"{args.agencies} agencies, {len(ids)} datasets, {runs_written:,} runs "
              f"({runs_written * len(STEPS):,} steps), {usage_rows:,} daily usage rows; "
              f"built in {time.perf_counter() - started:.0f} s")  # fmt: skip
        figures = measure(url, ids, args.repeat)
    return report(figures, load_before)


def measure(url: str, ids: list[str], repeat: int) -> dict[str, float]:
    from fastapi.testclient import TestClient

    from ctdata.monitoring.views import Links
    from ctdata.ui.app import Access, create_app

    app = create_app(lambda: Access("bench"), links=lambda: Links("https://data.ct.gov"))

    @app.get("/constant")
    def constant() -> dict[str, int]:
        return {"ok": 1}

    client = TestClient(app)
    one = ids[len(ids) // 2]

    def get(path: str) -> Callable[[], object]:
        def call() -> object:
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
            return answer

        return call

    return {
        "floor: constant JSON (baseline)": median_ms(get("/constant"), repeat),
        "latest runs by history scan (baseline)": median_ms(history_scan(url), repeat),
        "overview page": median_ms(get("/"), repeat),
        "overview JSON (/api/overview)": median_ms(get("/api/overview"), repeat),
        "dataset list JSON (/api/datasets)": median_ms(get("/api/datasets"), repeat),
        "dataset page": median_ms(get(f"/datasets/{one}"), repeat),
        "dataset JSON (/api/datasets/{id})": median_ms(get(f"/api/datasets/{one}"), repeat),
    }


def report(figures: dict[str, float], load_before: float) -> int:
    floor = figures["floor: constant JSON (baseline)"]
    scan = figures["latest runs by history scan (baseline)"]
    print(f"\n{'measure':42} {'median ms':>10} {'x floor':>8} {'target':>10}")
    missed = []
    for name, ms in figures.items():
        target = TARGETS_MS.get(name)
        verdict = (
            "" if target is None else f"< {target:.0f} ms" + ("" if ms < target else " MISSED")
        )
        if target is not None and ms >= target:
            missed.append(name)
        print(f"{name:42} {ms:10.1f} {ms / floor:8.1f} {verdict:>10}")
    print(f"\nthe overview page costs {figures['overview page'] / scan:.2f}x the history scan "
          f"alone that the ledger's latest-run table spares it")  # fmt: skip
    print(f"machine load (1-min average): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    if missed:
        print(f"MISSED: {', '.join(missed)}")
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
