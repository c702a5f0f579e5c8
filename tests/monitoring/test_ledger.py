"""The monitoring ledger on SQLite and PostgreSQL: step records fill the run's figures, the
final step closes it, a failure Airflow will retry does not fail the run, the latest-run read
model follows every write."""

from __future__ import annotations

import pytest

from ctdata.monitoring.ledger import Ledger, RunKey


@pytest.fixture
def ledger(store_url):
    store = Ledger(store_url)
    yield store
    store.dispose()


def key(run_id: str, dataset: str = "ocme-twn7") -> RunKey:
    return RunKey("ocme", "deaths_by_town", dataset, "publish_ocme", run_id)


def publish_run(ledger: Ledger, run_id: str, created: int = 5) -> None:
    ledger.record_step(key(run_id), "extract", {"rows": 100})
    ledger.record_step(key(run_id), "validate_source", {"success": True, "failed": 0})
    ledger.record_step(
        key(run_id),
        "aggregate_and_suppress",
        {"cells_suppressed": 7, "primary": 5, "complementary": 2, "audit_passed": True},
    )
    ledger.record_step(key(run_id), "validate_publishable", {"success": True, "failed": 0})
    ledger.record_step(
        key(run_id), "publish", {"created": created, "updated": 1, "deleted": 2, "bytes_sent": 99}
    )


def test_a_run_succeeds_only_once_its_metadata_is_synced(ledger) -> None:
    publish_run(ledger, "r1")
    running = ledger.run("ocme-twn7", "r1")
    assert running["status"] == "running" and running["finished"] is None
    assert ledger.latest_runs()["ocme-twn7"]["success"] is None
    ledger.record_step(key("r1"), "sync_metadata", {"changed_fields": []})
    run = ledger.run("ocme-twn7", "r1")
    assert run["status"] == "succeeded" and run["finished"] is not None
    assert (run["created"], run["updated"], run["deleted"], run["bytes_sent"]) == (5, 1, 2, 99)
    assert (
        run["cells_suppressed"],
        run["primary_suppressed"],
        run["complementary_suppressed"],
    ) == (
        7,
        5,
        2,
    )
    assert run["audit_passed"] is True and run["validation_passed"] is True
    assert set(run["steps"]) == {
        "extract",
        "validate_source",
        "aggregate_and_suppress",
        "validate_publishable",
        "publish",
        "sync_metadata",
    }
    assert run["steps"]["publish"]["summary"]["bytes_sent"] == 99


def test_latest_keeps_the_last_success_when_a_later_run_fails(ledger) -> None:
    publish_run(ledger, "r1", created=11)
    ledger.record_step(key("r1"), "sync_metadata", {})
    ledger.record_failure(
        key("r2"), "validate_source", "ValidationFailed", "2 expectations failed",
        validation={"success": False, "failed": 2},
    )  # fmt: skip
    latest = ledger.latest_runs()["ocme-twn7"]
    assert latest["last"]["run_id"] == "r2" and latest["last"]["status"] == "failed"
    assert latest["last"]["failed_step"] == "validate_source"
    assert latest["last"]["validation_passed"] is False
    assert latest["last"]["expectations_failed"] == 2
    assert latest["success"]["created"] == 11
    assert [r["run_id"] for r in ledger.history("ocme-twn7")] == ["r2", "r1"]


def test_a_failure_airflow_will_retry_leaves_the_run_going(ledger) -> None:
    ledger.record_failure(
        key("r1"), "publish", "PortalUnavailableError", "portal down", attempt=1, final=False
    )
    run = ledger.run("ocme-twn7", "r1")
    assert run["status"] == "running" and run["steps"]["publish"]["status"] == "retrying"
    ledger.record_step(key("r1"), "publish", {"created": 1}, attempt=2)
    ledger.record_step(key("r1"), "sync_metadata", {})
    run = ledger.run("ocme-twn7", "r1")
    assert run["status"] == "succeeded"
    assert run["steps"]["publish"] == {
        **run["steps"]["publish"],
        "status": "succeeded",
        "attempt": 2,
    }


def test_close_fails_a_run_whose_task_never_reported(ledger) -> None:
    ledger.record_step(key("r1"), "extract", {"rows": 1})
    closed = ledger.close("ocme-twn7", "r1")
    assert closed["status"] == "failed" and "without reporting" in closed["reason"]
    publish_run(ledger, "r2")
    ledger.record_step(key("r2"), "sync_metadata", {})
    assert ledger.close("ocme-twn7", "r2")["status"] == "succeeded"


def test_latest_runs_are_read_again_after_every_write(ledger) -> None:
    publish_run(ledger, "r1")
    assert ledger.latest_runs()["ocme-twn7"]["last"]["status"] == "running"
    ledger.record_step(key("r1"), "sync_metadata", {})
    assert ledger.latest_runs()["ocme-twn7"]["last"]["status"] == "succeeded"
    ledger.record_failure(key("r2"), "extract", "SourceError", "no rows")
    assert ledger.latest_runs()["ocme-twn7"]["last"]["run_id"] == "r2"
    other = Ledger(ledger.url)  # another process's write moves the version on too
    other.record_step(key("r3"), "extract", {"rows": 1})
    other.dispose()
    assert ledger.latest_runs()["ocme-twn7"]["last"]["run_id"] == "r3"


def test_a_created_dataset_takes_its_runs_from_its_provisional_key(ledger) -> None:
    """`ocme.deaths_by_age` (longer than a portal id) until the pipeline creates the dataset;
    then the runs move to its id, the current one whole, and the latest-run model with them."""
    before = "ocme.deaths_by_age"
    ledger.record_failure(key("r1", before), "validate_source", "ValidationFailed", "1 failed")
    ledger.record_step(key("r2", before), "extract", {"rows": 9})
    assert ledger.latest_runs()[before]["last"]["run_id"] == "r2"
    assert ledger.rekey(before, "ocag-e001") == 2
    ledger.record_step(key("r2", "ocag-e001"), "publish", {"created": 9})
    ledger.record_step(key("r2", "ocag-e001"), "sync_metadata", {})
    run = ledger.run("ocag-e001", "r2")
    assert set(run["steps"]) == {"extract", "publish", "sync_metadata"}
    assert run["status"] == "succeeded"
    assert [r["run_id"] for r in ledger.history("ocag-e001")] == ["r2", "r1"]
    latest = ledger.latest_runs()
    assert before not in latest and latest["ocag-e001"]["success"]["created"] == 9
    assert ledger.history(before) == [] and ledger.rekey(before, "ocag-e001") == 0
