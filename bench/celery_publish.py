"""20 datasets published concurrently on two Celery workers against the portal stand-in, beside
the same 20 published one after another on the same cluster (deploy/local_cluster.py: the
compose topology as local processes, PostgreSQL, Redis, S3 staging).

Each dataset is a generated agency's only dataset (2,000 records from CSV, a Great Expectations
suite, sync publish), so "one after another" is one DAG run at a time and "concurrently" is the
20 runs triggered together. The portal answers after 50 ms, as a remote one would. Every
dataset must end with exactly its rows.

Run: .venv/bin/python bench/celery_publish.py       (exit 1 when a target is missed)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "deploy")]
from local_cluster import LocalCluster  # noqa: E402
from support.generated_agencies import portal_id, write_agencies, write_records_csv, write_suite  # noqa: E402

DATASETS, ROWS = 20, 2_000
TARGET_SPEEDUP = 1.5  # two workers on two cores, portal writes bounded by the pool (4)
APPROVAL = "Approved by the bench as OPM's reviewer"  # a dataset's first publication, if asked


def publish_all(cluster: LocalCluster, dag_ids: list[str], *, together: bool) -> float:
    started = time.perf_counter()
    if together:
        runs = {dag_id: cluster.api.run_now(dag_id) for dag_id in dag_ids}
        states = {
            d: cluster.api.wait_for_run(d, r, timeout_s=1800, approve_reviews=APPROVAL)
            for d, r in runs.items()
        }
    else:
        states = {}
        for dag_id in dag_ids:
            run_id = cluster.api.run_now(dag_id)
            states[dag_id] = cluster.api.wait_for_run(dag_id, run_id, approve_reviews=APPROVAL)
    failed = [d for d, s in states.items() if s != "success"]
    assert not failed, f"runs failed: {failed}"
    return time.perf_counter() - started


def check_portal(cluster: LocalCluster, prefix: str) -> None:
    from ctdata.demo.environment import ADMIN, APP_TOKEN
    from socrata_emulator.testing import sodapy_client

    address = type("Address", (), {"host": cluster.portal_url.split("://", 1)[1]})
    client = sodapy_client(address, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)
    for a in range(1, DATASETS + 1):
        dataset = portal_id(prefix, a, 1)
        ids = [r["record_id"] for r in client.get(dataset, select="record_id", limit=ROWS + 1)]
        assert len(ids) == len(set(ids)) == ROWS, f"{dataset}: {len(ids)} rows, {len(set(ids))} ids"


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-celery-"))
    csv = work / "data" / "records.csv"
    write_records_csv(csv, ROWS)
    agencies, suites = work / "agencies", work / "expectations"
    warm = write_agencies(agencies, "warm", 1, 1, str(csv))
    one_by_one = write_agencies(agencies, "seq", DATASETS, 1, str(csv))
    together = write_agencies(agencies, "con", DATASETS, 1, str(csv))
    write_suite(suites)
    env = {"CTDATA_AGENCIES_DIR": str(agencies), "CTDATA_EXPECTATIONS_DIR": str(suites)}
    with LocalCluster(work / "cluster", workers=2, portal_latency_ms=50, extra_env=env) as cluster:
        cluster.api.wait_for_dags({*warm, *one_by_one, *together}, timeout_s=600)
        publish_all(cluster, warm, together=False)  # workers' first-task imports, not timed
        sequential = publish_all(cluster, one_by_one, together=False)
        concurrent = publish_all(cluster, together, together=True)
        check_portal(cluster, "seq")
        check_portal(cluster, "con")
    speedup = sequential / concurrent
    print(f"{DATASETS} datasets x {ROWS:,} rows on 2 Celery workers, all correct on the portal")
    print(f"one after another: {sequential:.0f} s; concurrently: {concurrent:.0f} s")
    print(f"speed-up: {speedup:.2f}x (target >= {TARGET_SPEEDUP}x)")
    if speedup < TARGET_SPEEDUP:
        print(f"TARGET MISSED: {speedup:.2f}x < {TARGET_SPEEDUP}x", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
