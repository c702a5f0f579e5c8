"""How the project's DAGs run unattended: when (on the state's clock, `ctdata.clock`), how long
and how often they retry, and which failures end a task at once.

One retry policy (`RETRY_POLICY`, Airflow 3.3's `retry_policy`) serves every task of every DAG
through `default_args`: the agency DAGs, `usage_metrics` and `inventories`, the review operator
included. Kept apart from the DAG's shape (dag_factory) and the steps (`ctdata.pipeline`) so
each rule can be read, tested and changed on its own.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import pendulum
from airflow.sdk import CronTriggerTimetable
from airflow.sdk.definitions.retry_policy import RetryDecision, RetryPolicy

from ctdata import settings
from ctdata.clock import STATE_TIMEZONE_NAME
from ctdata.errors import CtDataError, retry_can_help
from ctdata.specs import AgencySpec
from ctdata.specs.vocabulary import SCHEDULE_BY_FREQUENCY

START_DATE = pendulum.datetime(2024, 1, 1, tz=STATE_TIMEZONE_NAME)

# Most to least frequent; an agency DAG runs at its most frequent dataset's pace.
_FREQUENCY_ORDER = [s for s in SCHEDULE_BY_FREQUENCY.values() if s is not None]


class FailFastRetryPolicy(RetryPolicy):
    """Fail at once when retrying cannot help (`ctdata.errors.retry_can_help`: a bad spec,
    data that breaks its expectations or its column's type, a portal refusal, a missing
    connection); otherwise Airflow's retries with backoff. Evaluated in the worker with the
    exception itself; only a flag reaches the serialized DAG."""

    def evaluate(
        self, exception: BaseException, try_number: int, max_tries: int, context: Any = None
    ) -> RetryDecision:
        name = type(exception).__name__
        if retry_can_help(exception):
            return RetryDecision.default()
        return RetryDecision.fail(f"{name}: retrying cannot help, the task fails at once")

    def serialize(self) -> dict[str, Any]:
        return {"__type": type(self).__name__}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> FailFastRetryPolicy:
        return cls()


RETRY_POLICY = FailFastRetryPolicy()


def default_args(owner: str, *, timeout: dt.timedelta | None = None) -> dict[str, Any]:
    """Every task of every ctdata DAG: retries with exponential backoff for what can pass later,
    none for what cannot (`RETRY_POLICY`), and a bound on its run time."""
    current = settings.current()
    return {
        "owner": owner,
        "retries": 3,
        "retry_delay": dt.timedelta(seconds=current.retry_delay_seconds),
        "retry_exponential_backoff": 2.0,  # a multiplier in Airflow 3 (True would mean 1.0)
        "max_retry_delay": dt.timedelta(hours=1),
        "retry_policy": RETRY_POLICY,
        "execution_timeout": timeout or dt.timedelta(minutes=current.task_timeout_minutes),
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
    """The same rule as `RETRY_POLICY` for a function called outside a task's retry policy:
    a pipeline error retrying cannot help becomes AirflowFailException (its message kept)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        except CtDataError as exc:
            if retry_can_help(exc):
                raise
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc

    return wrapper
