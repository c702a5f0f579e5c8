"""Schedules and the due rule, on the timetable Airflow itself builds from an agency DAG.

Airflow 3 runs a cron as a `CronTriggerTimetable`: a scheduled run's data interval has zero
length, so a rule asking "does the dataset's cron fire inside the interval?" is never true. The
due rule compares the dataset's latest tick with its last successful publish instead; these
tests drive it with the run infos Airflow's timetable produces, not hand-made intervals.
"""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
import yaml
from airflow.serialization.encoders import coerce_to_core_timetable
from airflow.timetables.base import DagRunInfo, TimeRestriction

from ctdata import settings
from ctdata.airflow.dag_factory import build_agency_dag
from ctdata.clock import STATE_TIMEZONE_NAME, dataset_is_due, previous_tick
from ctdata.specs import AgencySpec

NEW_YORK = pendulum.timezone(STATE_TIMEZONE_NAME)


def _agency(frequencies: dict[str, str]) -> AgencySpec:
    """OPM's spec with one copy of its dataset per (slug, update frequency)."""
    raw = yaml.safe_load((settings.current().agencies_dir / "opm.yaml").read_text())
    template = raw["datasets"][0]
    datasets = []
    for index, (slug, frequency) in enumerate(frequencies.items()):
        dataset = yaml.safe_load(yaml.safe_dump(template))
        dataset.update(slug=slug, portal_id=f"test-{index:04d}")
        dataset["metadata"]["update_frequency"] = frequency
        datasets.append(dataset)
    return AgencySpec.model_validate({**raw, "datasets": datasets})


def _scheduled_runs(dag, start: dt.datetime, count: int) -> list[DagRunInfo]:
    """The run infos Airflow's scheduler would create, one after another."""
    timetable = coerce_to_core_timetable(dag.timetable)
    restriction = TimeRestriction(earliest=pendulum.instance(start), latest=None, catchup=True)
    runs: list[DagRunInfo] = []
    last = None
    for _ in range(count):
        info = timetable.next_dagrun_info(
            last_automated_data_interval=last, restriction=restriction
        )
        assert info is not None
        runs.append(info)
        last = info.data_interval
    return runs


def _simulate(dag, agency: AgencySpec, runs: list[DagRunInfo], down: set[int] = frozenset()):
    """Which datasets each run publishes, given the ledger the earlier runs left (a run the
    scheduler missed, e.g. while it was down, is in `down`)."""
    last_success: dict[str, dt.datetime | None] = {d.slug: None for d in agency.datasets}
    published: list[set[str]] = []
    for index, info in enumerate(runs):
        if index in down:
            published.append(set())
            continue
        done = set()
        for dataset in agency.datasets:
            if dataset_is_due(
                dataset.effective_schedule,
                scheduled=True,
                at=info.run_after,
                last_success=last_success[dataset.slug],
            ):
                last_success[dataset.slug] = info.run_after + dt.timedelta(minutes=3)
                done.add(dataset.slug)
        published.append(done)
    return published


def test_agency_dag_runs_at_six_in_connecticut_summer_and_winter() -> None:
    agency = _agency({"daily": "Daily"})
    dag = build_agency_dag(agency)
    winter = _scheduled_runs(dag, dt.datetime(2025, 1, 10, tzinfo=dt.UTC), 1)[0]
    summer = _scheduled_runs(dag, dt.datetime(2025, 7, 10, tzinfo=dt.UTC), 1)[0]
    assert winter.run_after.in_timezone("UTC").hour == 11  # EST, UTC-5
    assert summer.run_after.in_timezone("UTC").hour == 10  # EDT, UTC-4
    for run in (winter, summer):
        assert run.run_after.in_timezone(NEW_YORK).hour == 6
        # Zero-length intervals: why "does the cron fire inside the interval" never held.
        assert run.data_interval.start == run.data_interval.end
    assert dag.start_date.tzinfo is not None


def test_less_frequent_datasets_publish_when_their_own_tick_has_passed() -> None:
    agency = _agency({"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"})
    dag = build_agency_dag(agency)
    assert {t.task_id for t in dag.tasks if t.task_id.endswith("is_due")} == {
        "weekly.is_due",
        "monthly.is_due",
    }
    runs = _scheduled_runs(dag, dt.datetime(2025, 1, 1, tzinfo=dt.UTC), 75)
    published = _simulate(dag, agency, runs)
    days = [r.run_after.in_timezone(NEW_YORK).date() for r in runs]

    assert all("daily" in p for p in published)
    weekly = [day for day, p in zip(days, published, strict=True) if "weekly" in p]
    monthly = [day for day, p in zip(days, published, strict=True) if "monthly" in p]
    assert weekly[0] == days[0]  # never published yet: due at once
    assert all(day.weekday() == 0 for day in weekly[1:]) and len(weekly) >= 10
    assert monthly == [days[0], dt.date(2025, 2, 1), dt.date(2025, 3, 1)]


def test_a_tick_missed_while_the_scheduler_was_down_is_made_up_next_run() -> None:
    agency = _agency({"daily": "Daily", "monthly": "Monthly"})
    dag = build_agency_dag(agency)
    runs = _scheduled_runs(dag, dt.datetime(2025, 1, 30, tzinfo=dt.UTC), 6)
    days = [r.run_after.in_timezone(NEW_YORK).date() for r in runs]
    first_of_february = days.index(dt.date(2025, 2, 1))
    published = _simulate(dag, agency, runs, down={first_of_february})
    assert "monthly" not in published[first_of_february]
    assert "monthly" in published[first_of_february + 1]  # made up on 2 February
    assert "monthly" not in published[first_of_february + 2]


def test_previous_tick_reads_the_cron_on_connecticut_wall_clock() -> None:
    at = dt.datetime(2025, 3, 9, 12, 0, tzinfo=dt.UTC)  # the day clocks spring forward
    tick = pendulum.instance(previous_tick("0 6 * * *", at))
    assert tick.in_timezone(NEW_YORK).hour == 6 and tick.in_timezone("UTC").hour == 10
    assert previous_tick("0 6 * * *", tick) == tick  # a tick at `at` counts as the latest


@pytest.mark.parametrize(
    ("schedule", "scheduled", "last", "due"),
    [
        ("0 6 1 1 *", False, dt.datetime(2025, 3, 1, tzinfo=dt.UTC), True),  # manual: all
        (None, True, None, False),  # "As needed": manual runs only
        ("0 6 1 1 *", True, None, True),  # never published
        ("0 6 1 1 *", True, dt.datetime(2025, 1, 1, 11, 5, tzinfo=dt.UTC), False),
        ("0 6 1 1 *", True, dt.datetime(2024, 12, 31, tzinfo=dt.UTC), True),
    ],
)
def test_due_rule(schedule, scheduled, last, due) -> None:
    at = dt.datetime(2025, 3, 3, 11, tzinfo=dt.UTC)
    assert dataset_is_due(schedule, scheduled=scheduled, at=at, last_success=last) is due
