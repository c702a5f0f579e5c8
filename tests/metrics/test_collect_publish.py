"""The nightly job against the stand-in over HTTP: known traffic comes back exactly, reruns
change nothing, a missed night is filled, quality problems are reported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from ctdata.metrics import job
from ctdata.metrics.collect import LOCAL_TZ
from ctdata.metrics.traffic import generate_traffic
from tests.metrics.conftest import DATASETS, Portal

D0 = dt.datetime.now(LOCAL_TZ).date()
D1 = D0 + dt.timedelta(days=1)
D2 = D0 + dt.timedelta(days=2)
D3 = D0 + dt.timedelta(days=3)
IDS = [d["id"] for d in DATASETS]
made: dict[str, Any] = {}


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


def _usage_rows(portal: Portal, day: dt.date) -> dict[str, dict[str, Any]]:
    with portal.client() as client:
        rows = client.read_rows(
            portal.config.usage_dataset.portal_id, where=f"date = '{day.isoformat()}T00:00:00'"
        )
        return {r["dataset_id"]: r for r in rows}


def _n(row: dict[str, Any], field: str) -> int:
    return int(float(row[field]))


def test_known_traffic_appears_exactly_in_the_published_usage(portal: Portal) -> None:
    first = _night(portal, D0)
    assert first["collected"]["datasets"] >= len(IDS)
    made["d1"] = generate_traffic(portal.url, IDS, seed=7, max_requests=120)
    assert sum(c["views"] for c in made["d1"].values()) > 0
    night = _night(portal, D1)
    assert night["collected"]["daily_dates"] == [D1.isoformat()]
    published = _usage_rows(portal, D1)
    for ds_id, did in made["d1"].items():
        row = published[ds_id]
        assert (_n(row, "views"), _n(row, "downloads"), _n(row, "api_calls")) == (
            did["views"],
            did["downloads"],
            did["api_calls"],
        ), ds_id
        assert row["filled"] is False


def test_rerun_of_a_date_changes_nothing(portal: Portal) -> None:
    """Only the output datasets' own API calls (this test reads them back) may move."""
    outputs = portal.config.output_ids
    before = _usage_rows(portal, D1)
    stored = portal.store.daily([D1])
    again = _night(portal, D1)
    usage = again["published"]["dataset_usage"]
    assert usage["created"] == 0 and usage["updated"] <= len(outputs)
    after = _usage_rows(portal, D1)
    assert after.keys() == before.keys()
    assert {k: after[k] for k in IDS} == {k: before[k] for k in IDS}
    restored = portal.store.daily([D1])
    assert len(restored) == len(stored)
    for old, new in zip(stored, restored, strict=True):
        if old["dataset_id"] in outputs:
            old, new = (
                dict(old, api_calls=0, api_calls_total=0),
                dict(new, api_calls=0, api_calls_total=0),
            )
        assert old == new
    assert len(portal.store.snapshot(D1)) == len(portal.store.snapshot(D0))


def test_missed_night_is_filled_from_the_next_snapshot(portal: Portal) -> None:
    made["d3"] = generate_traffic(portal.url, IDS, seed=11, max_requests=90)
    night = _night(portal, D3)  # nobody ran on D2
    assert night["collected"]["daily_dates"] == [D2.isoformat(), D3.isoformat()]
    missed, next_night = _usage_rows(portal, D2), _usage_rows(portal, D3)
    for ds_id, did in made["d3"].items():
        assert missed[ds_id]["filled"] is True
        assert next_night[ds_id]["filled"] is False
        for counter in ("views", "downloads", "api_calls"):
            both = _n(missed[ds_id], counter) + _n(next_night[ds_id], counter)
            assert both == did[counter], (ds_id, counter)
        totals = _n(next_night[ds_id], "views_total")
        assert totals == did["views"] + made["d1"][ds_id]["views"]


def test_overdue_and_incomplete_datasets_are_reported(portal: Portal) -> None:
    on_d3 = _usage_rows(portal, D3)
    daily = on_d3["tst1-dly1"]
    assert daily["freshness"] == "overdue" and _n(daily, "days_overdue") == 2
    assert on_d3["tst1-mon1"]["freshness"] == "on time"
    assert on_d3["tst1-his1"]["freshness"] == "historical"
    assert "Description" in on_d3["tst1-nod1"]["missing_metadata"]
    assert "missing_metadata" not in on_d3["tst1-mon1"]  # blank (omitted) when complete


def test_scorecard_is_published_for_the_agency(portal: Portal) -> None:
    with portal.client() as client:
        rows = list(client.read_rows(portal.config.scorecard_dataset.portal_id))
    mine = next(r for r in rows if r["row_id"] == f"Department of Testing|{D3.isoformat()}")
    assert _n(mine, "datasets_published") == len(IDS)
    assert float(mine["share_complete_metadata"]) == pytest.approx(3 / 4, abs=1e-4)
    assert float(mine["share_updated_on_time"]) == pytest.approx(2 / 3, abs=1e-4)
    assert float(mine["share_automated"]) == 0
    views = sum(c["views"] for c in made["d3"].values())
    assert _n(mine, "views") == sum(
        r["views"] for r in portal.store.daily([D3]) if r["agency"] == "Department of Testing"
    )
    assert _n(mine, "views") <= views


def test_report_is_written_with_overdue_first(portal: Portal) -> None:
    result = job.write_report(D3, config=portal.config, store=portal.store)
    page = Path(result["path"]).read_text(encoding="utf-8")
    assert page.count("<svg") == 6
    assert not [tag for tag in ("<script", " src=", "<link", "@import") if tag in page]
    table = page.split("<h2>Freshness and metadata</h2>")[1]
    first_row = table.split("<tr")[2]
    assert "Daily Test Counts" in first_row and "overdue by 2 days" in first_row
    assert "Description" in table.split("Test Counts Without Description")[1].split("</tr>")[0]
