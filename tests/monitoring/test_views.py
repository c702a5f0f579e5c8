"""The Open Data view's read models: status and due times in Connecticut time, failing and
overdue first, agency scoping and filters, usage from the usage history, the dataset page."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import insert

from ctdata.clock import local_time, next_tick
from ctdata.lifecycle.registry import DatasetRegistry
from ctdata.metrics.history import UsageHistory, daily, snapshots
from ctdata.monitoring.catalog import Catalog
from ctdata.monitoring.ledger import Ledger, RunKey
from ctdata.monitoring.views import Filters, Links, OpenDataViews
from ctdata.specs import load_all

NOW = dt.datetime(2026, 7, 15, 16, 0, tzinfo=dt.UTC)  # noon in Connecticut (EDT)


def daily_agency():
    """OPM's spec with its dataset updated daily, and a second, record-level one."""
    opm = next(a for a in load_all().agencies if a.code == "opm")
    towns = opm.datasets[0]
    meta = towns.metadata.model_copy(update={"update_frequency": "Daily"})
    daily_towns = towns.model_copy(update={"metadata": meta})
    other = towns.model_copy(update={"slug": "counties", "portal_id": "opmc-nty1"})
    return opm.model_copy(update={"datasets": [daily_towns, other]})


@pytest.fixture
def views(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    agencies = [a for a in load_all().agencies if a.code == "ocme"] + [daily_agency()]
    registry = DatasetRegistry(url)
    made = OpenDataViews(
        url, links=Links("https://data.ct.gov", "http://af"), catalog=Catalog.of(agencies, registry)
    )
    yield made, Ledger(url), url
    made.dispose()
    registry.dispose()


def succeed(ledger, agency, slug, dataset_id, run_id, created=3):
    key = RunKey(agency, slug, dataset_id, f"publish_{agency}", run_id)
    ledger.record_step(key, "validate_source", {"success": True, "failed": 0})
    ledger.record_step(
        key, "publish", {"created": created, "updated": 0, "deleted": 0, "bytes_sent": 10}
    )
    ledger.record_step(key, "sync_metadata", {"public": True})


def started_at(ledger, run_id, when):
    from sqlalchemy import update

    from ctdata.monitoring.ledger import runs

    with ledger.engine.begin() as conn:
        conn.execute(
            update(runs).where(runs.c.run_id == run_id).values(started=when, finished=when)
        )


def test_due_times_follow_connecticut_clock_in_winter_and_summer() -> None:
    jan = next_tick("0 6 * * *", dt.datetime(2026, 1, 10, 20, tzinfo=dt.UTC))
    jul = next_tick("0 6 * * *", dt.datetime(2026, 7, 10, 20, tzinfo=dt.UTC))
    assert jan == dt.datetime(2026, 1, 11, 11, tzinfo=dt.UTC)  # 06:00 EST
    assert jul == dt.datetime(2026, 7, 11, 10, tzinfo=dt.UTC)  # 06:00 EDT
    assert local_time(jul) == "2026-07-11 06:00 EDT"


def test_statuses_and_order(views) -> None:
    made, ledger, _ = views
    succeed(ledger, "opm", "towns", "opmt-wn01", "d1")
    started_at(ledger, "d1", NOW - dt.timedelta(days=3))  # daily, three days ago: overdue
    succeed(ledger, "opm", "counties", "opmc-nty1", "c1")  # as needed: not scheduled
    succeed(ledger, "ocme", "deaths_records", "rybz-nyjw", "r1")
    started_at(ledger, "r1", NOW - dt.timedelta(days=30))  # annual, published this year
    ledger.record_failure(
        RunKey("ocme", "deaths_by_town", "ocme-twn7", "publish_ocme", "f1"),
        "publish", "PortalUnavailableError", "The portal kept failing",
    )  # fmt: skip
    rows = made.datasets(now=NOW)
    status = {r["key"]: r["status"] for r in rows}
    assert status == {
        "ocme-twn7": "failing",
        "ocme.deaths_by_age": "overdue",  # annual, due on January 1st, never published
        "opmt-wn01": "overdue",
        "rybz-nyjw": "on time",
        "opmc-nty1": "not scheduled",
    }
    assert [r["key"] for r in rows][:3] == ["ocme-twn7", "ocme.deaths_by_age", "opmt-wn01"]
    annual = next(r for r in rows if r["portal_id"] == "rybz-nyjw")
    assert annual["next_due_local"] == "2027-01-01 06:00 EST"
    failing = rows[0]
    assert failing["last_run"]["log_url"] == (
        "http://af/dags/publish_ocme/runs/f1/tasks/deaths_by_town.publish"
    )
    assert failing["last_publish"] is None and failing["portal_url"].endswith("/d/ocme-twn7")


def test_scoping_and_filters(views) -> None:
    made, ledger, _ = views
    succeed(ledger, "opm", "towns", "opmt-wn01", "d1")
    assert {r["agency"] for r in made.datasets({"opm"}, now=NOW)} == {"opm"}
    assert made.datasets(set(), now=NOW) == []
    overview = made.overview({"ocme"}, now=NOW)
    assert [a["agency"] for a in overview["agencies"]] == ["ocme"]
    assert [c for c, _ in overview["choices"]["agency"]] == ["ocme"]
    only = made.datasets(filters=Filters(category="Government"), now=NOW)
    assert {r["agency"] for r in only} == {"opm"}
    never = made.datasets(filters=Filters(status="never run"), now=NOW)
    assert {r["portal_id"] for r in never} == {"opmc-nty1"}


def test_overview_counts_use_completeness_and_access_plan(views) -> None:
    made, ledger, url = views
    succeed(ledger, "ocme", "deaths_by_town", "ocme-twn7", "r1")
    today = NOW.date()
    store = UsageHistory(url)
    with store.engine.begin() as conn:
        for back in range(40):  # 40 days, 10 views a day; only 30 count
            conn.execute(insert(daily).values(
                date=today - dt.timedelta(days=back), dataset_id="ocme-twn7", name="x", agency="x",
                views=10, downloads=1, api_calls=2, views_total=0, downloads_total=0,
                api_calls_total=0, filled=False, freshness="on time", days_overdue=0,
                missing_metadata="[]", measured_on=today,
            ))  # fmt: skip
        for dataset_id, missing in (("ocme-twn7", []), ("rybz-nyjw", ["Tags/Keywords"])):
            conn.execute(insert(snapshots).values(
                snapshot_date=today, dataset_id=dataset_id, name="x", agency="x", automated=True,
                update_frequency="Annually", missing_metadata=json.dumps(missing),
                freshness="on time", days_overdue=0, views_total=0, downloads_total=0,
                collected_at=NOW,
            ))  # fmt: skip
    store.dispose()
    ocme = next(a for a in made.overview(now=NOW)["agencies"] if a["agency"] == "ocme")
    assert ocme["usage_30d"] == {"views": 300, "downloads": 30, "api_calls": 60}
    assert ocme["metadata_complete"] == 0.5
    # The access plan's items as the published Open Data Access Plans dataset lists them: the
    # spec's three entries and deaths_by_age, a dataset of the spec the plan does not list.
    assert ocme["access_plan"] == {"published": 1, "items": 4, "late": 0}
    page = made.dataset("ocme-twn7", now=NOW)
    assert page["usage_30d"]["views"] == 300 and page["usage_365d"]["views"] == 400
    assert made.dataset("rybz-nyjw", now=NOW)["missing_metadata"] == ["Tags/Keywords"]


def test_dataset_page_has_history_validation_and_disclosure(views) -> None:
    made, ledger, _ = views
    key = RunKey("ocme", "deaths_by_town", "ocme-twn7", "publish_ocme", "r1")
    outcome = {"suite": "s", "expectation_type": "expect_x", "column": "deaths", "success": True,
               "unexpected_count": 0, "unexpected_percent": 0.0}  # fmt: skip
    ledger.record_step(key, "validate_source", {"success": True, "failed": 0, "evaluated": 1,
                                                "outcomes": [outcome]})  # fmt: skip
    ledger.record_step(key, "aggregate_and_suppress", {"cells_suppressed": 9, "primary": 6,
                                                       "complementary": 3, "audit_passed": True})  # fmt: skip
    page = made.dataset("ocme-twn7", now=NOW)
    detail = page["last_run_detail"]
    assert detail["validation"]["validate_source"]["outcomes"] == [outcome]
    assert detail["disclosure"]["complementary"] == 3
    assert page["protection"] == "interval" and page["history"][0]["run_id"] == "r1"
    assert made.dataset("none-0000") is None
