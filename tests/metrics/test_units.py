"""Pure parts of the metrics job: freshness, completeness, span derivation, scorecard, config."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from ctdata.errors import SpecError
from ctdata.metrics.collect import AgencyIndex, Counters, observe
from ctdata.metrics.config import DEFAULT_PATH, load_metrics_config, portal_seed_entries
from ctdata.metrics.quality import freshness, missing_metadata
from ctdata.metrics.report import freshness_rows, nice_scale
from ctdata.metrics.scorecard import scorecard
from ctdata.metrics.store import derive_span
from ctdata.specs import load_all

DAY = dt.date(2025, 3, 10)


@pytest.mark.parametrize(
    ("frequency", "age", "status", "late"),
    [
        ("Daily", 1, "on time", 0),
        ("Daily", 4, "overdue", 3),
        ("Monthly", 31, "on time", 0),
        ("Monthly", 40, "overdue", 9),
        ("Not updated (historical only)", 900, "historical", 0),
        ("As needed", 900, "no schedule", 0),
        (None, 3, "unknown", 0),
        ("Sometimes", 3, "unknown", 0),
    ],
)
def test_freshness(frequency: str | None, age: int, status: str, late: int) -> None:
    result = freshness(frequency, DAY - dt.timedelta(days=age), DAY)
    assert (result.status, result.days_overdue, result.age_days) == (status, late, age)


def entry(**resource: Any) -> dict[str, Any]:
    custom = {
        "Dataset-Information_Agency": "Office of Policy and Management",
        "Dataset-Information_Row-Label": "Town",
        "Dataset-Information_Geographic-Unit": "Municipality",
        "Dataset-Information_Temporal-Coverage": "current",
        "Dataset-Information_Source-Link": "https://portal.ct.gov/opm",
        "Publishing_Update-Frequency": "Daily",
    }
    base = {
        "id": "abcd-0001",
        "name": "Towns",
        "description": "The towns of Connecticut.",
        "attribution": "Office of Policy and Management",
        "createdAt": "2025-03-01T12:00:00.000Z",
        "data_updated_at": "2025-03-08T03:30:00.000Z",
        "columns_description": ["Town name"],
        "page_views": {"page_views_total": 12},
        "download_count": 4,
    }
    return {
        "resource": {**base, **resource},
        "classification": {
            "domain_category": "Government",
            "domain_tags": ["towns"],
            "domain_metadata": [{"key": k, "value": v} for k, v in custom.items()],
        },
        "metadata": {"license": "PUBLIC_DOMAIN"},
    }


def test_complete_entry_has_nothing_missing() -> None:
    assert missing_metadata(entry()) == []


def test_missing_description_and_column_descriptions_are_named() -> None:
    missing = missing_metadata(entry(description="  ", columns_description=["Town", ""]))
    assert missing == ["Description", "Column Descriptions"]


def test_observe_uses_spec_owner_local_dates_and_catalog_counters() -> None:
    index = AgencyIndex.build(load_all().agencies, None)
    spec_id = load_all().agencies[0].datasets[0].portal_id
    obs = observe(entry(id=spec_id), None, index, DAY)
    assert obs.automated and obs.agency == load_all().agencies[0].name
    # 03:30 UTC on the 8th is still the 7th in Connecticut
    assert obs.last_update == dt.date(2025, 3, 7)
    assert obs.freshness.status == "overdue" and obs.freshness.days_overdue == 2
    assert obs.counters == Counters(12, 4, None)
    stranger = observe(entry(attribution="Town of Nowhere"), Counters(1, 2, 3), index, DAY)
    assert (stranger.agency, stranger.automated) == ("Town of Nowhere", False)


def snap(day: dt.date, views: int, created: dt.date | None = None) -> dict[str, Any]:
    return {
        "snapshot_date": day,
        "dataset_id": "abcd-0001",
        "name": "Towns",
        "agency": "OPM",
        "created": created or dt.date(2020, 1, 1),
        "freshness": "on time",
        "days_overdue": 0,
        "missing_metadata": "[]",
        "views_total": views,
        "downloads_total": 2 * views,
        "api_calls_total": None,
    }


def test_span_of_one_night_is_the_difference() -> None:
    [row] = derive_span(snap(DAY, 10), snap(DAY + dt.timedelta(days=1), 17))
    assert (row["views"], row["downloads"], row["views_total"], row["filled"]) == (7, 14, 17, False)
    assert row["api_calls"] is None


def test_missed_nights_are_split_and_flagged() -> None:
    rows = derive_span(snap(DAY, 10), snap(DAY + dt.timedelta(days=3), 21))
    assert [r["date"] for r in rows] == [DAY + dt.timedelta(days=i) for i in (1, 2, 3)]
    assert [r["views"] for r in rows] == [3, 4, 4]
    assert [r["views_total"] for r in rows] == [13, 17, 21]
    assert [r["filled"] for r in rows] == [True, True, False]


def test_first_snapshot_counts_new_datasets_only() -> None:
    [old] = derive_span(None, snap(DAY, 50))
    [new] = derive_span(None, snap(DAY, 50, created=DAY - dt.timedelta(days=1)))
    assert old["views"] is None and old["views_total"] == 50
    assert new["views"] == 50


def test_counter_reset_is_not_negative_use() -> None:
    [row] = derive_span(snap(DAY, 10), snap(DAY + dt.timedelta(days=1), 4))
    assert row["views"] == 0


def test_scorecard_shares_and_access_plan() -> None:
    ocme = next(a for a in load_all().agencies if a.code == "ocme")
    plan_ids = [e.portal_id for e in ocme.access_plan if e.portal_id]
    rows = [
        {"dataset_id": plan_ids[0], "agency": ocme.name, "automated": True,
         "freshness": "on time", "missing_metadata": []},
        {"dataset_id": "zzzz-0001", "agency": ocme.name, "automated": False,
         "freshness": "overdue", "missing_metadata": ["Description"]},
    ]  # fmt: skip
    daily = [{"date": DAY, "agency": ocme.name, "views": 5, "downloads": None, "api_calls": 2}]
    [score] = [s for s in scorecard(DAY, rows, daily, [ocme]) if s.agency == ocme.name]
    assert score.datasets_published == 2
    assert score.share_automated == 0.5
    # The plan's items as the published access plan lists them: the three `access_plan`
    # entries and deaths_by_age, a spec dataset the plan does not list; one is published.
    assert len(ocme.access_plan) == 3 and score.share_access_plan_published == 0.25
    assert score.share_updated_on_time == 0.5
    assert score.share_complete_metadata == 0.5
    assert (score.views, score.downloads, score.api_calls) == (5, 0, 2)


def test_freshness_table_puts_most_overdue_first() -> None:
    rows = [
        {"freshness": "on time", "days_overdue": 0, "agency": "A", "name": "a"},
        {"freshness": "overdue", "days_overdue": 2, "agency": "A", "name": "b"},
        {"freshness": "historical", "days_overdue": 0, "agency": "A", "name": "c"},
        {"freshness": "overdue", "days_overdue": 9, "agency": "B", "name": "d"},
    ]
    assert [r["name"] for r in freshness_rows(rows)] == ["d", "b", "a", "c"]


@pytest.mark.parametrize("peak", [0, 1, 3, 7, 123, 999, 1000, 48_213])
def test_axis_scale_is_tight_and_round(peak: int) -> None:
    ymax, step = nice_scale(peak)
    assert peak <= ymax < max(peak, 1) + step  # covers the peak, no empty band on top
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 6) in (1, 2, 5) and ymax / step <= 5


def test_config_error_names_file_and_field(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_PATH.read_text())
    raw["usage_dataset"]["portal_id"] = "usage"
    del raw["scorecard_dataset"]["columns"][3]
    path = tmp_path / "usage_metrics.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(SpecError) as info:
        load_metrics_config(path)
    message = str(info.value)
    assert str(path) in message and "usage_dataset.portal_id" in message
    assert "'usage' is not a portal id" in message


def test_config_requires_the_fields_the_job_fills(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_PATH.read_text())
    raw["scorecard_dataset"]["columns"] = raw["scorecard_dataset"]["columns"][:3]
    path = tmp_path / "usage_metrics.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(SpecError, match="scorecard_dataset.columns: missing field"):
        load_metrics_config(path)


def test_seed_entries_are_private_drafts_with_the_configured_columns() -> None:
    config = load_metrics_config()
    entries = portal_seed_entries("owner@ct.gov", config)
    assert [e["id"] for e in entries] == [
        config.usage_dataset.portal_id,
        config.scorecard_dataset.portal_id,
    ]
    assert entries[0]["rowIdentifier"] == "row_id" and not entries[0]["public"]
    assert [c["fieldName"] for c in entries[0]["columns"]] == config.usage_dataset.field_names


def test_report_svgs_are_well_formed_and_mark_filled_days() -> None:
    from xml.etree import ElementTree

    from ctdata.metrics.report import render_report

    rows = [
        {"date": DAY + dt.timedelta(days=i), "dataset_id": f"abcd-000{k}", "name": f"D{k}",
         "agency": "OPM" if k else "OCME", "views": 3 * i + k, "downloads": i, "api_calls": None,
         "filled": i == 1}
        for i in range(3)
        for k in range(3)
    ]  # fmt: skip
    snapshot = [
        {"dataset_id": "abcd-0000", "name": "D<0>", "agency": "OCME", "freshness": "overdue",
         "days_overdue": 1, "last_update": DAY, "update_frequency": "Daily",
         "missing_metadata": ["Description"]},
    ]  # fmt: skip
    page = render_report(DAY + dt.timedelta(days=2), rows, snapshot, [], top=2)
    svgs = [part.split("</svg>")[0] + "</svg>" for part in page.split("<svg")[1:]]
    assert len(svgs) == 6
    for svg in svgs:
        ElementTree.fromstring("<svg" + svg)
    first = "<svg" + svgs[0]
    assert first.count("<polyline") == 2  # one line per agency
    assert first.count("fill='#fff'") == 2  # the filled day, hollow, on both lines
    assert "D&lt;0&gt;" in page and "D<0>" not in page  # names are escaped
    assert "overdue by 1 day<" in page


def test_traffic_plan_is_reproducible_and_skewed() -> None:
    from collections import Counter

    from ctdata.demo.traffic import traffic_plan

    ids = [f"abcd-{i:04d}" for i in range(20)]
    plan = traffic_plan(ids, seed=5, requests_total=2000)
    assert plan == traffic_plan(ids, seed=5, requests_total=2000)
    assert plan != traffic_plan(ids, seed=6, requests_total=2000)
    per_dataset = Counter(ds for ds, _ in plan).most_common()
    assert per_dataset[0][1] > 4 * per_dataset[-1][1]
    assert {kind for _, kind in plan} == {"views", "downloads", "api_calls"}


def _collection(day: dt.date, views: int) -> Any:
    from ctdata.metrics.collect import Collection, Observation
    from ctdata.metrics.quality import Freshness

    obs = Observation(
        dataset_id="abcd-0001", name="Towns", agency="OPM", automated=True,
        created=dt.date(2020, 1, 1), last_update=day, update_frequency="Daily",
        missing_metadata=(), freshness=Freshness("on time"), counters=Counters(views, 0, 0),
    )  # fmt: skip
    return Collection(day, [obs])


def test_store_fills_a_missed_night_and_a_late_run_replaces_the_fill(store_url: str) -> None:
    from ctdata.metrics.store import MetricsStore

    store = MetricsStore(store_url)
    d1, d2 = DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)
    store.save(_collection(DAY, 100))
    saved = store.save(_collection(d2, 110))
    assert saved.daily_dates == [d1, d2] and saved.filled_rows == 1
    assert [(r["views"], r["filled"]) for r in store.daily([d1, d2])] == [(5, True), (5, False)]
    store.save(_collection(d2, 110))  # rerun: same rows, nothing doubled
    assert len(store.daily()) == 3
    late = store.save(_collection(d1, 108))  # the missed night is run afterwards
    assert late.daily_dates == [d1, d2]
    assert [(r["views"], r["filled"]) for r in store.daily([d1, d2])] == [(8, False), (2, False)]
    assert [r["views_total"] for r in store.daily()] == [100, 108, 110]
    store.dispose()
