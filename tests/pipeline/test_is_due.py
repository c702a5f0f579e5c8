"""`is_due` and the Open Data view read one last successful publish: the monitoring ledger's
latest run that got through, so a run that sent rows and then failed is made up next time."""

from __future__ import annotations

import datetime as dt

import pytest

from ctdata import settings
from ctdata.clock import next_tick
from ctdata.monitoring.ledger import Ledger
from ctdata.pipeline.run import AgencyRun, DatasetRun, NotDue
from ctdata.pipeline.steps import is_due
from ctdata.specs import load_agency
from ctdata.store import Store


def run_for(store_url: str, run_id: str, scheduled_for: dt.datetime | None) -> DatasetRun:
    agency = load_agency(settings.current().agencies_dir / "ocme.yaml")
    return AgencyRun(
        agency=agency, run_id=run_id, dag_id="publish_ocme", store=Store(store_url),
        scheduled_for=scheduled_for,
    ).dataset_run("deaths_by_town")  # fmt: skip


@pytest.fixture
def cron(store_url: str) -> str:
    schedule = run_for(store_url, "probe", None).dataset.effective_schedule
    assert schedule is not None
    return schedule


def test_due_until_a_run_gets_through_then_not_until_the_next_tick(
    store_url: str, cron: str
) -> None:
    now = dt.datetime.now(dt.UTC)
    assert is_due(run_for(store_url, "scheduled__1", now))  # never published

    sent_then_failed = run_for(store_url, "scheduled__1", now)
    sent_then_failed.record("publish", {"created": 10, "updated": 0, "deleted": 0})
    sent_then_failed.record_failure("sync_metadata", RuntimeError("portal down"), final=True)
    assert is_due(run_for(store_url, "scheduled__2", now))  # the failed run is made up

    done = run_for(store_url, "scheduled__2", now)
    done.record("publish", {"created": 0, "updated": 0, "deleted": 0})
    done.record("sync_metadata", {"changed": []})
    with pytest.raises(NotDue):
        is_due(run_for(store_url, "scheduled__3", now))
    later = next_tick(cron, now) + dt.timedelta(minutes=1)
    assert is_due(run_for(store_url, "scheduled__4", later))
    assert is_due(run_for(store_url, "manual__1", None))  # manual runs publish everything


def test_is_due_and_the_view_read_the_same_last_success(store_url: str) -> None:
    done = run_for(store_url, "scheduled__1", dt.datetime.now(dt.UTC))
    done.record("sync_metadata", {"changed": []})
    ledger = Ledger(store_url)
    key = done.ledger_key
    assert ledger.last_success(key) == ledger.latest_runs()[key]["success"]["started"]
    assert ledger.last_success("ocme.never_published") is None
