"""The figures the view shows beyond the schedule, each from the record that is its source of
truth: visibility and retirement stage from the steps that set them, a step being retried
with its reason, what de-identification did, OPM's own datasets from the nightly measurement,
and the "needs OPM" queue."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import insert

from ctdata.lifecycle.registry import DatasetRegistry
from ctdata.metrics import attention
from ctdata.metrics.history import UsageHistory, snapshots
from ctdata.monitoring.catalog import PROGRAM, Catalog, _program
from ctdata.monitoring.ledger import Ledger, RunKey
from ctdata.monitoring.views import Links, OpenDataViews
from ctdata.specs import load_all
from ctdata.specs.access_plan import AccessPlanItem

NOW = dt.datetime(2026, 7, 15, 16, 0, tzinfo=dt.UTC)
TOWNS = RunKey("opm", "towns", "opmt-wn01", "publish_opm", "r1")
REVIEW = {
    "agency": "ocme", "title": "Review before publication: Deaths by Age", "who": "opm-reviewer",
    "detail": "asked 2026-07-15 12:00 UTC", "link": "http://af/dags/publish_ocme/runs/m1/tasks/"
    "deaths_by_age.review/required_actions",
}  # fmt: skip


@pytest.fixture
def views(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    registry = DatasetRegistry(url)
    catalog = Catalog.of([*load_all().agencies, *_program()], registry)
    made = OpenDataViews(
        url, links=Links("https://data.ct.gov", "http://af"), catalog=catalog,
        reviews=lambda: [REVIEW],
    )  # fmt: skip
    yield made, Ledger(url), url
    made.dispose()
    registry.dispose()


def publish(ledger, key, public=True, **extract):
    ledger.record_step(key, "extract", {"rows": 10, **extract})
    ledger.record_step(key, "publish", {"created": 5, "updated": 0, "deleted": 0})
    ledger.record_step(key, "sync_metadata", {"public": public})


def row(made, key):
    return next(r for r in made.datasets(now=NOW) if r["key"] == key)


def test_visibility_and_retirement_come_from_the_steps_that_set_them(views) -> None:
    made, ledger, _ = views
    publish(ledger, TOWNS)
    first = row(made, "opmt-wn01")
    assert (first["status"], first["visibility"], first["retirement"]) == (
        "not scheduled", "public", None)  # fmt: skip
    notice = {"stage": "mid-retirement", "notice_date": "2026-07-01", "removal_date": "2026-07-31",
              "retired_date": None, "made_private": False}  # fmt: skip
    ledger.record_step(RunKey("opm", "towns", "opmt-wn01", "publish_opm", "r2"), "retire", notice)
    retiring = row(made, "opmt-wn01")
    assert retiring["status"] == "retiring" and retiring["visibility"] == "public"
    assert retiring["retirement"]["removal_date"] == "2026-07-31"
    assert retiring["next_due"] is None and retiring["last_run"]["status"] == "succeeded"
    assert retiring["last_publish"]["created"] == 5  # the publish before is still the last one
    done = {**notice, "stage": "retired", "retired_date": "2026-07-31", "made_private": True}
    ledger.record_step(RunKey("opm", "towns", "opmt-wn01", "publish_opm", "r3"), "retire", done)
    retired = row(made, "opmt-wn01")
    assert (retired["status"], retired["visibility"]) == ("retired", "private")
    page = made.dataset("opmt-wn01", now=NOW)
    assert page["retirement"]["retired_date"] == "2026-07-31" and page["visibility"] == "private"
    publish(ledger, RunKey("opm", "towns", "opmt-wn01", "publish_opm", "r4"))  # published again
    again = row(made, "opmt-wn01")
    assert (again["status"], again["visibility"], again["retirement"]) == (
        "not scheduled", "public", None)  # fmt: skip


def test_a_step_being_retried_shows_as_retrying_with_its_reason(views) -> None:
    made, ledger, _ = views
    key = RunKey("ocme", "deaths_by_town", "ocme-twn7", "publish_ocme", "r1")
    ledger.record_step(key, "extract", {"rows": 3})
    ledger.record_failure(key, "publish", "PortalUnavailableError",
                          "The portal kept failing or throttling past the retry budget",
                          attempt=1, final=False)  # fmt: skip
    brief = row(made, "ocme-twn7")["last_run"]
    assert brief["status"] == "retrying" and brief["retrying_step"] == "publish"
    assert brief["reason"].startswith("The portal kept failing")
    assert brief["log_url"].endswith("/tasks/deaths_by_town.publish")
    ledger.record_failure(key, "publish", "PortalUnavailableError", "gave up", attempt=4)
    assert row(made, "ocme-twn7")["status"] == "failing"
    assert row(made, "ocme-twn7")["last_run"]["status"] == "failed"


def test_de_identified_records_show_what_was_done(views) -> None:
    made, ledger, _ = views
    key = RunKey("ocme", "deaths_records", "rybz-nyjw", "publish_ocme", "r1")
    groups = {"k": 6, "quasi_identifiers": ["year", "age_group", "sex"], "label": "Suppressed",
              "generalized": {"age_group": 40, "sex": 12}, "records_in": 5105,
              "records_dropped": 11}  # fmt: skip
    publish(ledger, key)
    made_by_protection = {"rows": 5094, "cells_suppressed": 0, "small_groups": groups}
    ledger.record_step(key, "prepare_records", made_by_protection)
    listed = row(made, "rybz-nyjw")
    assert listed["record_level"] and listed["suppressed_cells"] is None  # not "0 suppressed"
    done = made.dataset("rybz-nyjw", now=NOW)["last_run_detail"]["deidentification"]
    assert done["pseudonymized"] == ["case_id -> record_id"] and done["dropped"] == ["case_id"]
    assert done["small_groups"]["k"] == 6 and done["small_groups"]["records_dropped"] == 11
    assert done["small_groups"]["generalized"] == {"age_group": 40, "sex": 12}


def test_opms_own_datasets_are_listed_from_the_nightly_measurement(views) -> None:
    made, _, url = views
    store = UsageHistory(url)
    with store.engine.begin() as conn:
        conn.execute(insert(snapshots).values(
            snapshot_date=NOW.date(), dataset_id="opmu-sg01", name="x", agency="x",
            automated=True, update_frequency="Daily", missing_metadata=json.dumps([]),
            freshness="overdue", days_overdue=2, views_total=0, downloads_total=0,
            collected_at=NOW, last_update=NOW.date() - dt.timedelta(days=3),
        ))  # fmt: skip
    store.dispose()
    program = [r for r in made.datasets(now=NOW) if r["agency"] == PROGRAM]
    ids = {r["portal_id"] for r in program}
    assert {"opmu-sg01", "opms-crd1"} <= ids and len(ids) >= 6  # usage, scorecard, registers
    usage = next(r for r in program if r["portal_id"] == "opmu-sg01")
    assert usage["status"] == "overdue" and usage["publishes_with"] == "the usage_metrics DAG"
    plans = next(r for r in program if r["slug"] == "access_plans")
    assert plans["publishes_with"] == "the inventories DAG"
    assert made.dataset(plans["key"], now=NOW)["dag_url"] == "http://af/dags/inventories"
    assert usage["last_publish"]["finished"] == "2026-07-12" and usage["visibility"] is None
    assert made.dataset("opmu-sg01", now=NOW)["dag_url"] == "http://af/dags/usage_metrics"
    assert made.catalog.dag_of(next(a for a in made.catalog.agencies if a.code == PROGRAM)) == (
        "usage_metrics"
    )


def test_the_needs_opm_queue_lists_what_waits_and_who_must_act(views) -> None:
    made, ledger, url = views
    ledger.record_failure(RunKey("opm", "towns", "opmt-wn01", "publish_opm", "f1"), "extract",
                          "SourceError", "The source's data could not be used")  # fmt: skip
    store = UsageHistory(url)
    with store.engine.begin() as conn:  # a nightly measurement, and its proposals
        conn.execute(insert(snapshots).values(
            snapshot_date=NOW.date(), dataset_id="rybz-nyjw", name="x", agency="x",
            automated=True, update_frequency="Annually", missing_metadata="[]",
            freshness="on time", days_overdue=0, views_total=0, downloads_total=0,
            collected_at=NOW,
        ))  # fmt: skip
    late = AccessPlanItem("Office of the Chief Medical Examiner", "ocme", "Deaths by county", None,
                    dt.date(2026, 6, 30), "Late", 15, None, False)  # fmt: skip
    candidate = attention.Candidate("rybz-nyjw", "Records", "Office of the Chief Medical Examiner",
                                    ("unused for a year",), "no views since 2025-07-15")  # fmt: skip
    attention.save(store, NOW.date(), [candidate], [late])
    store.dispose()
    queue = made.overview(now=NOW)["queue"]
    kinds = {q["kind"]: q for q in queue}
    assert set(kinds) >= {"review", "failing", "late plan item", "retirement candidate"}
    assert kinds["review"]["link"].endswith("/required_actions")
    assert kinds["review"]["who"] == "opm-reviewer"
    assert kinds["failing"]["who"] == "OPM Agency Data Officer <opm.data@ct.gov>"
    assert kinds["late plan item"]["detail"] == "target date 2026-06-30, 15 days late"
    assert kinds["retirement candidate"]["key"] == "rybz-nyjw"
    assert "ocme" in kinds["retirement candidate"]["agency"]
    scoped = made.overview({"opm"}, now=NOW)["queue"]  # a data officer sees their agency's only
    assert {q["agency"] for q in scoped} == {"opm"}


def test_no_link_to_a_task_log_airflow_did_not_keep(views) -> None:
    """`airflow dags test` runs keep no task log: the page says so instead of linking to an
    empty one."""
    made, ledger, url = views
    key = RunKey("opm", "towns", "opmt-wn01", "publish_opm", "t1")
    ledger.record_failure(key, "extract", "SourceError", "The source's data could not be used")
    kept = {"t1": False}
    made.links = Links("https://data.ct.gov", "http://af", logs_kept=lambda d, r: kept[r])
    brief = made.dataset("opmt-wn01", now=NOW)["last_run_detail"]
    assert brief["log_url"] is None and "airflow dags test" in brief["log_note"]
    kept["t1"] = True
    brief = made.dataset("opmt-wn01", now=NOW)["last_run_detail"]
    assert brief["log_url"] == "http://af/dags/publish_opm/runs/t1/tasks/towns.extract"
