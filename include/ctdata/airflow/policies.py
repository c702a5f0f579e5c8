"""How agency DAGs run unattended: when (on the state's clock, `ctdata.clock`), how long and how
often they retry, and which failures end a task at once.

Kept apart from the DAG's shape (dag_factory) and the task bodies (tasks) so each rule can be
read, tested and changed on its own.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import pendulum
from airflow.sdk import CronTriggerTimetable

from ctdata import settings
from ctdata.clock import STATE_TIMEZONE_NAME
from ctdata.errors import CtDataError
from ctdata.specs import AgencySpec
from ctdata.specs.vocabulary import SCHEDULE_BY_FREQUENCY

START_DATE = pendulum.datetime(2024, 1, 1, tz=STATE_TIMEZONE_NAME)

# Most to least frequent; an agency DAG runs at its most frequent dataset's pace.
_FREQUENCY_ORDER = [s for s in SCHEDULE_BY_FREQUENCY.values() if s is not None]


def default_args(owner: str) -> dict[str, Any]:
    """Retries with exponential backoff for what can pass later, and a bound on every task."""
    return {
        "owner": owner,
        "retries": 3,
        "retry_delay": dt.timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,  # a multiplier in Airflow 3 (True would mean 1.0)
        "max_retry_delay": dt.timedelta(hours=1),
        "execution_timeout": dt.timedelta(minutes=settings.current().task_timeout_minutes),
    }


def agency_schedule(agency: AgencySpec) -> str | None:
    """The cron of the agency's most frequent dataset (None: manual runs only)."""
    schedules = {d.effective_schedule for d in agency.datasets} - {None}
    if not schedules:
        return None
    known = [s for s in _FREQUENCY_ORDER if s in schedules]
    return known[0] if known else sorted(schedules)[0]


def agency_timetable(agency: AgencySpec) -> CronTriggerTimetable | None:
    """Runs at the agency's cron in Connecticut time; a run's data interval has zero length."""
    cron = agency_schedule(agency)
    return None if cron is None else CronTriggerTimetable(cron, timezone=STATE_TIMEZONE_NAME)


T = TypeVar("T")


def fail_fast(function: Callable[..., T]) -> Callable[..., T]:
    """Fail a task at once when its error says retrying cannot help (a bad spec, data that
    breaks its expectations, a table that cannot be protected, a portal refusal), keeping
    Airflow's retries for what can pass later (see `CtDataError.retryable`)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        except CtDataError as exc:
            if exc.retryable:
                raise
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc

    return wrapper
