"""The nightly job against the stand-in over HTTP: known traffic comes back exactly, reruns
change nothing, a missed night is filled, quality problems are reported.

One module fixture plays the nights in order (D0, traffic, D1, a rerun of D1, traffic, D3 with
D2 missed) and records what each step left on the portal; the tests only read that record, so
they pass in any order and alone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ctdata.clock import state_date
from ctdata.demo.traffic import generate_traffic
from ctdata.metrics import job
from tests.metrics.support import AGENCY, DATASETS, Portal

D0 = state_date()
D1, D2, D3 = (D0 + dt.timedelta(days=n) for n in (1, 2, 3))
IDS = [d["id"] for d in DATASETS]
Traffic = dict[str, dict[str, int]]
Rows = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Nights:
    first: dict[str, Any]
    traffic_d1: Traffic
    night_d1: dict[str, Any]
    usage_d1: Rows
    stored_d1: list[dict[str, Any]]
    rerun_d1: dict[str, Any]
    usage_d1_after_rerun: Rows
    stored_d1_after_rerun: list[dict[str, Any]]
    traffic_d3: Traffic
    night_d3: dict[str, Any]
    usage_d2: Rows
    usage_d3: Rows
    scorecard: list[dict[str, Any]]


@pytest.fixture(scope="module")
def nights(portal: Portal) -> Nights:
    first = _night(portal, D0)
    traffic_d1 = generate_traffic(portal.url, IDS, seed=7, max_requests=120)
    night_d1 = _night(portal, D1)
    usage_d1, stored_d1 = _usage_rows(portal, D1), portal.store.daily([D1])
    rerun_d1 = _night(portal, D1)
    usage_after, stored_after = _usage_rows(portal, D1), portal.store.daily([D1])
    traffic_d3 = generate_traffic(portal.url, IDS, seed=11, max_requests=90)
    night_d3 = _night(portal, D3)  # nobody ran on D2
    with portal.client() as client:
        scorecard = list(client.read_rows(portal.config.scorecard_dataset.portal_id))
    return Nights(
        first,
        traffic_d1,
        night_d1,
        usage_d1,
        stored_d1,
        rerun_d1,
        usage_after,
        stored_after,
        traffic_d3,
        night_d3,
        _usage_rows(portal, D2),
        _usage_rows(portal, D3),
        scorecard,
    )


def _night(portal: Portal, day: dt.date) -> dict[str, Any]:
    with portal.client() as client:
        collected = job.collect_snapshot(day, client, config=portal.config, store=portal.store)
        published = job.publish_outputs(
            day,
            collected["daily_dates"],
            client,
            f"test_{day}",
            config=portal.config,
            store=portal.store,
        )
    return {"collected": collected, "published": published}


def _usage_rows(portal: Portal, day: dt.date) -> Rows:
    with portal.client() as client:
        rows = client.read_rows(
            portal.config.usage_dataset.portal_id, where=f"date = '{day.isoformat()}T00:00:00'"
        )
        return {r["dataset_id"]: r for r in rows}


def _n(row: dict[str, Any], field: str) -> int:
    return int(float(row[field]))


def test_known_traffic_appears_exactly_in_the_published_usage(nights: Nights) -> None:
    assert nights.first["collected"]["datasets"] >= len(IDS)
    assert nights.night_d1["collected"]["counters_from"] == "site analytics dataset site-anly"
    assert nights.night_d1["collected"]["fallback"] is None
    assert sum(c["views"] for c in nights.traffic_d1.values()) > 0
    assert nights.night_d1["collected"]["daily_dates"] == [D1.isoformat()]
    for ds_id, did in nights.traffic_d1.items():
        row = nights.usage_d1[ds_id]
        assert (_n(row, "views"), _n(row, "downloads"), _n(row, "api_calls")) == (
            did["views"],
            did["downloads"],
            did["api_calls"],
        ), ds_id
        assert row["filled"] is False


def test_rerun_of_a_date_changes_nothing(nights: Nights, portal: Portal) -> None:
    """Only the output datasets' own API calls (the job reads them back) may move."""
    outputs = portal.config.output_ids
    usage = nights.rerun_d1["published"]["dataset_usage"]
    assert usage["created"] == 0 and usage["updated"] <= len(outputs)
    before, after = nights.usage_d1, nights.usage_d1_after_rerun
    assert after.keys() == before.keys()
    assert {k: after[k] for k in IDS} == {k: before[k] for k in IDS}
    assert len(nights.stored_d1_after_rerun) == len(nights.stored_d1)
    for old, new in zip(nights.stored_d1, nights.stored_d1_after_rerun, strict=True):
        if old["dataset_id"] in outputs:
            old, new = (
                dict(old, api_calls=0, api_calls_total=0),
                dict(new, api_calls=0, api_calls_total=0),
            )
        assert old == new


def test_missed_night_is_filled_from_the_next_snapshot(nights: Nights) -> None:
    assert nights.night_d3["collected"]["daily_dates"] == [D2.isoformat(), D3.isoformat()]
    for ds_id, did in nights.traffic_d3.items():
        missed, next_night = nights.usage_d2[ds_id], nights.usage_d3[ds_id]
        assert missed["filled"] is True and next_night["filled"] is False
        for counter in ("views", "downloads", "api_calls"):
            both = _n(missed, counter) + _n(next_night, counter)
            assert both == did[counter], (ds_id, counter)
        totals = _n(next_night, "views_total")
        assert totals == did["views"] + nights.traffic_d1[ds_id]["views"]


def test_overdue_and_incomplete_datasets_are_reported(nights: Nights) -> None:
    on_d3 = nights.usage_d3
    daily = on_d3["tst1-dly1"]
    assert daily["freshness"] == "overdue" and _n(daily, "days_overdue") == 2
    assert on_d3["tst1-mon1"]["freshness"] == "on time"
    assert on_d3["tst1-his1"]["freshness"] == "historical"
    assert "Description" in on_d3["tst1-nod1"]["missing_metadata"]
    assert "missing_metadata" not in on_d3["tst1-mon1"]  # blank (omitted) when complete


def test_scorecard_is_published_for_the_agency(nights: Nights) -> None:
    mine = next(r for r in nights.scorecard if r["row_id"] == f"{AGENCY}|{D3.isoformat()}")
    assert _n(mine, "datasets_published") == len(IDS)
    assert float(mine["share_complete_metadata"]) == pytest.approx(3 / 4, abs=1e-4)
    assert float(mine["share_updated_on_time"]) == pytest.approx(2 / 3, abs=1e-4)
    assert float(mine["share_automated"]) == 0
    on_d3 = sum(_n(nights.usage_d3[i], "views") for i in IDS)  # D2 holds the rest (filled)
    assert _n(mine, "views") == on_d3 <= sum(c["views"] for c in nights.traffic_d3.values())


def test_report_is_written_with_overdue_first(nights: Nights, portal: Portal) -> None:
    result = job.write_report(D3, config=portal.config, store=portal.store)
    page = Path(result["path"]).read_text(encoding="utf-8")
    assert page.count("<svg") == 6
    assert not [tag for tag in ("<script", " src=", "<link", "@import") if tag in page]
    table = page.split("<h2>Freshness and metadata</h2>")[1]
    first_row = table.split("<tr")[2]
    assert "Daily Test Counts" in first_row and "overdue by 2 days" in first_row
    assert "Description" in table.split("Test Counts Without Description")[1].split("</tr>")[0]
