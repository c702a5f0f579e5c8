"""The state's clock: Connecticut's time zone, when a schedule fires on its wall clock, and the
rule that says whether a dataset is due.

Every cron of the update-frequency vocabulary means Connecticut time: "06:00" is 06:00 in
Hartford in winter (UTC-5) and in summer (UTC-4). The agency DAGs' timetables, the `is_due`
step, the Open Data view's "next due" and the nightly jobs' dates all read it from here.
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

from croniter import croniter

STATE_TIMEZONE_NAME = "America/New_York"
STATE_TIMEZONE = ZoneInfo(STATE_TIMEZONE_NAME)


@functools.lru_cache(maxsize=65536)  # the same last publish gives the same due time
def previous_tick(cron: str, at: dt.datetime) -> dt.datetime:
    """The latest firing of `cron` at or before `at`, on Connecticut's wall clock (UTC out)."""
    local = at.astimezone(STATE_TIMEZONE).replace(tzinfo=None) + dt.timedelta(microseconds=1)
    fired = croniter(cron, local).get_prev(dt.datetime)
    return fired.replace(tzinfo=STATE_TIMEZONE).astimezone(dt.UTC)


@functools.lru_cache(maxsize=65536)
def next_tick(cron: str, after: dt.datetime) -> dt.datetime:
    """The first firing of `cron` strictly after `after` (UTC out)."""
    local = after.astimezone(STATE_TIMEZONE).replace(tzinfo=None)
    fired = croniter(cron, local).get_next(dt.datetime)
    return fired.replace(tzinfo=STATE_TIMEZONE).astimezone(dt.UTC)


def state_date(when: dt.datetime | None = None) -> dt.date:
    """The date in Connecticut at `when` (now when not given)."""
    return (when or dt.datetime.now(dt.UTC)).astimezone(STATE_TIMEZONE).date()


def local_time(value: dt.datetime | None) -> str:
    """A time as Connecticut shows it, e.g. '2026-01-01 06:00 EST'."""
    if value is None:
        return "-"
    return value.astimezone(STATE_TIMEZONE).strftime("%Y-%m-%d %H:%M %Z")


def dataset_is_due(
    schedule: str | None,
    *,
    scheduled: bool,
    at: dt.datetime,
    last_success: dt.datetime | None,
) -> bool:
    """Is a dataset due in a run of its agency's DAG started for time `at`?

    Manual runs publish everything. On scheduled runs a dataset is due when its own schedule has
    fired since its last successful publish, so a tick missed while the scheduler was down, or
    while an earlier run was still going, is made up at the next run rather than skipped.
    """
    if not scheduled:
        return True
    if schedule is None:
        return False  # "As needed" and historical datasets publish on manual runs only
    if last_success is None:
        return True
    return previous_tick(schedule, at) > last_success
