"""The nightly metrics propose retirement candidates (unused for a year, long overdue,
superseded) and flag late access plan items, in the store the UI reads and in the report."""

from __future__ import annotations

import datetime as dt

import pytest

from ctdata import settings
from ctdata.metrics import attention
from ctdata.metrics.analytics import Counters
from ctdata.metrics.collect import Collection, Observation
from ctdata.metrics.config import CandidateRules
from ctdata.metrics.history import UsageHistory
from ctdata.metrics.quality import Freshness
from ctdata.metrics.report import render_report
from ctdata.metrics.scorecard import scorecard
from ctdata.specs import load_agency
from ctdata.specs.models import Retirement

DAY = dt.date(2027, 7, 10)
YEAR_AGO = DAY - dt.timedelta(days=400)


ON_TIME = Freshness("on time")


def _obs(
    ds_id: str,
    views: int,
    *,
    name: str | None = None,
    created: dt.date = dt.date(2020, 1, 1),
    freshness: Freshness = ON_TIME,
) -> Observation:
    return Observation(
        dataset_id=ds_id,
        name=name or f"Dataset {ds_id}",
        agency="Office of the Chief Medical Examiner",
        automated=False,
        created=created,
        last_update=dt.date(2024, 1, 1),
        update_frequency="Monthly",
        missing_metadata=(),
        freshness=freshness,
        counters=Counters(views, views, None),
    )


@pytest.fixture
def ocme():
    agency = load_agency(settings.current().agencies_dir / "ocme.yaml")
    towns = agency.dataset("deaths_by_town").model_copy(update={"supersedes": ["olds-0001"]})
    records = agency.dataset("deaths_records").model_copy(
        update={"retire": Retirement(reason="outdated", notice_date=DAY)}
    )
    return agency.model_copy(update={"datasets": [towns, records]})


@pytest.fixture
def store(store_url: str):
    store = UsageHistory(store_url)
    yield store
    store.dispose()


def _nights(store: UsageHistory) -> None:
    late = Freshness("overdue", days_overdue=200)
    store.save(Collection(YEAR_AGO, [_obs("unus-0001", 40), _obs("used-0001", 40),
                                     _obs("rybz-nyjw", 3)]))  # fmt: skip
    store.save(
        Collection(
            DAY,
            [
                _obs("unus-0001", 40),  # no use in a year
                _obs("used-0001", 41),
                _obs("over-0001", 90, freshness=late),
                _obs("olds-0001", 500),  # superseded by deaths_by_town
                _obs("rybz-nyjw", 3),  # unused, but already retiring
                _obs("arch-0001", 0, name="ARCHIVE: Old Counts"),
                _obs("zero-0001", 0, created=DAY - dt.timedelta(days=800)),  # never used
                _obs("newb-0001", 0, created=DAY - dt.timedelta(days=10)),  # new, not yet used
                _obs("ocme-twn7", 9),
            ],
        )
    )


def test_candidates_are_proposed_and_stored_for_the_ui(store: UsageHistory, ocme) -> None:
    _nights(store)
    candidates, late = attention.record(store, DAY, [ocme], rules=CandidateRules())
    reasons = {c.dataset_id: c.reasons for c in candidates}
    assert reasons == {
        "unus-0001": ("unused for a year",),
        "over-0001": ("long overdue",),
        "olds-0001": ("superseded",),
        "zero-0001": ("unused for a year",),
    }
    superseded = next(c for c in candidates if c.dataset_id == "olds-0001")
    assert ocme.dataset("deaths_by_town").metadata.title in superseded.details

    stored = attention.read_candidates(store, DAY)
    assert {r["dataset_id"]: tuple(r["reasons"]) for r in stored} == reasons
    # The plan's planned county table (target 2027-06-30) is 10 days late on DAY.
    [item] = attention.read_late_items(store, DAY)
    assert (item["title"], item["days_late"]) == ("Drug related deaths by county and quarter", 10)
    assert item["target_date"] == dt.date(2027, 6, 30)
    assert len(late) == 1

    attention.record(store, DAY, [ocme])  # a rerun of the night replaces, never duplicates
    assert len(attention.read_candidates(store, DAY)) == 4
    assert len(attention.read_late_items(store, DAY)) == 1


def test_thresholds_come_from_the_rules(store: UsageHistory, ocme) -> None:
    _nights(store)
    candidates, _ = attention.record(store, DAY, [ocme], rules=CandidateRules(overdue_days=365))
    assert "over-0001" not in {c.dataset_id for c in candidates}


def test_not_late_before_the_target_date(ocme) -> None:
    before = dt.date(2027, 6, 30)
    assert attention.late_access_plan_items([ocme], [], before) == []
    assert len(attention.late_access_plan_items([ocme], [], before + dt.timedelta(days=1))) == 1


def test_scorecard_and_report_show_late_items_and_candidates(store: UsageHistory, ocme) -> None:
    _nights(store)
    attention.record(store, DAY, [ocme])
    snapshot = store.snapshot(DAY)
    [score] = [s for s in scorecard(DAY, snapshot, [], [ocme]) if s.agency == ocme.name]
    assert score.late_access_plan_items == 1
    assert score.as_row()["late_access_plan_items"] == 1
    page = render_report(
        DAY,
        store.daily(since=YEAR_AGO, until=DAY),
        snapshot,
        [score],
        candidates=attention.read_candidates(store, DAY),
        late_items=attention.read_late_items(store, DAY),
    )
    assert "Proposed for retirement" in page and "Dataset olds-0001" in page
    assert "unused for a year" in page and "long overdue" in page
    assert "Drug related deaths by county and quarter" in page and "2027-06-30" in page
    assert "class='lateitem'>1<" in page
