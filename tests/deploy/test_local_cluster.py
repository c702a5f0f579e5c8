"""The compose topology as local processes (deploy/local_cluster.py): PostgreSQL, Redis, a local
S3 server for staging, the API server, scheduler, DAG processor and two Celery workers. Both
agency DAGs run through the REST API; one worker is killed with SIGKILL in the middle of a
publish, and the task is retried on the other worker with the portal ending exactly equal to the
file the publish was given.

The publish is cut into 500-row chunks (the spec's `publish.chunk_rows`, in a copy of the
agency specs) on a portal answering after 300 ms, so that "the middle" is observable: the kill
comes once two chunks are acknowledged and recorded in the state store.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ctdata import settings
from tests.deploy.portal_checks import assert_portal_equals, expected_rows, portal_client

pytestmark = pytest.mark.e2e

KILLED_DATASET, KILLED_TASK = "ocme-twn7", "deaths_by_town.publish"
CHUNK_ROWS = 500
APPROVAL = "Approved by the deployment test as OPM's reviewer"  # each first publication
PUBLISHED = [  # agency, dataset slug, portal id, row identifier
    ("opm", "towns", "opmt-wn01", "town"),
    ("ocme", "deaths_by_town", "ocme-twn7", "cell_id"),
    ("ocme", "deaths_records", "rybz-nyjw", "record_id"),
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from local_cluster import ClusterError, LocalCluster

    root = tmp_path_factory.mktemp("cluster")
    agencies = _specs_with_small_chunks(root / "agencies")
    cluster = LocalCluster(
        root, workers=2, portal_latency_ms=300, extra_env={"CTDATA_AGENCIES_DIR": str(agencies)}
    )
    try:
        cluster.start()
    except (ClusterError, OSError) as exc:
        cluster.stop()
        pytest.fail(f"the local cluster did not start: {exc}")
    yield cluster
    cluster.stop()


def _specs_with_small_chunks(folder: Path) -> Path:
    folder.mkdir()
    for spec in settings.current().agencies_dir.glob("*.yaml"):
        text = spec.read_text()
        if spec.stem == "ocme":  # the first dataset, deaths_by_town
            text = text.replace(
                "publish: {method: sync}", f"publish: {{method: sync, chunk_rows: {CHUNK_ROWS}}}", 1
            )
        (folder / spec.name).write_text(text)
    return folder


def test_agency_dags_run_on_celery_and_a_killed_worker_s_publish_is_retried_exactly(
    cluster, monkeypatch, tmp_path
) -> None:
    api = cluster.api
    api.wait_for_dags({"publish_opm", "publish_ocme"})
    opm_run, ocme_run = api.run_now("publish_opm"), api.run_now("publish_ocme")

    victim = _kill_worker_mid_publish(cluster, ocme_run)
    survivor = next(name for name in cluster.worker_names if name != victim)

    assert api.wait_for_run("publish_opm", opm_run, timeout_s=600, approve_reviews=APPROVAL) == (
        "success"
    )
    state = api.wait_for_run("publish_ocme", ocme_run, timeout_s=1200, approve_reviews=APPROVAL)
    assert state == "success", cluster.log_tail("scheduler")
    assert api.request("GET", "/dags/publish_ocme/dagRuns")["total_entries"] == 1
    tries = api.tries("publish_ocme", ocme_run, KILLED_TASK)
    assert [t["hostname"] for t in tries] == [victim, survivor], tries
    assert [t["state"] for t in tries] == ["failed", "success"], tries

    # Every task of both runs ran on a Celery worker named in Airflow's records.
    ran_on = {
        ti["hostname"]
        for dag_id, run in (("publish_opm", opm_run), ("publish_ocme", ocme_run))
        for ti in api.task_instances(dag_id, run)
    }
    assert ran_on <= set(cluster.worker_names) and survivor in ran_on

    for name in ("CTDATA_VAR_DIR", "CTDATA_PSEUDONYM_KEY", "CTDATA_AGENCIES_DIR"):
        monkeypatch.setenv(name, cluster.env[name])
    monkeypatch.delenv("CTDATA_STAGING_ROOT", raising=False)
    client = portal_client(cluster.portal_url)
    agencies = Path(cluster.env["CTDATA_AGENCIES_DIR"])
    for agency, slug, dataset_id, row_id in PUBLISHED:
        expected = expected_rows(agencies / f"{agency}.yaml", slug, tmp_path / slug)
        assert_portal_equals(client, dataset_id, expected, row_id)


def _kill_worker_mid_publish(cluster, run_id: str) -> str:
    """Wait until the publish has two chunks acknowledged (and not all of them), then kill -9
    the worker running it; return that worker's name."""
    engine = sa.create_engine(cluster.env["CTDATA_STATE_URL"])
    count = sa.text("SELECT count(*) FROM publish_segments WHERE dataset_id = :d")
    deadline = time.monotonic() + 420
    next_review_check = 0.0
    try:
        while time.monotonic() < deadline:
            if time.monotonic() >= next_review_check:  # the first publication waits for OPM
                for review in cluster.api.pending_reviews("publish_ocme", run_id):
                    cluster.api.decide_review(review, approve=True, reason=APPROVAL)
                next_review_check = time.monotonic() + 2
            with engine.connect() as connection:
                chunks = connection.scalar(count, {"d": KILLED_DATASET})
            if chunks >= 2:
                ti = cluster.api.task_instance("publish_ocme", run_id, KILLED_TASK)
                assert ti["state"] == "running", f"publish not running at {chunks} chunks: {ti}"
                assert chunks < 11, "the publish finished before the kill"
                cluster.kill(ti["hostname"])
                return str(ti["hostname"])
            time.sleep(0.1)
    finally:
        engine.dispose()
    pytest.fail(
        f"{KILLED_TASK} never got two chunks acknowledged:\n{cluster.log_tail('scheduler')}"
    )
