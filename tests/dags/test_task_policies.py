"""Task policies: errors retrying cannot fix fail at once; datasets run on their own schedule."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException

from ctdata.airflow.dag_factory import fail_fast
from ctdata.errors import (
    DisclosureError,
    PortalError,
    PortalRefusedError,
    PublishError,
    SourceError,
    SpecError,
    ValidationFailed,
)
from ctdata.portal.client import AmbiguousWriteError


def _raising(error: Exception):
    @fail_fast
    def task_body() -> None:
        raise error

    return task_body


@pytest.mark.parametrize(
    "error",
    [
        ValidationFailed("year out of range"),
        SpecError("ocme.yaml: bad field"),
        DisclosureError("margins do not add up"),
        PublishError("duplicate row ids"),
        PortalRefusedError("403 permission denied"),
    ],
)
def test_permanent_errors_fail_without_retry(error: Exception) -> None:
    with pytest.raises(AirflowFailException, match=str(error)):
        _raising(error)()


@pytest.mark.parametrize(
    "error",
    [SourceError("database unreachable"), PortalError("still 503"), AmbiguousWriteError("?")],
)
def test_transient_errors_are_retried(error: Exception) -> None:
    with pytest.raises(type(error)):
        _raising(error)()


def test_return_value_passes_through() -> None:
    assert fail_fast(lambda: {"rows": 3})() == {"rows": 3}


def test_a_dataset_runs_when_its_own_schedule_fires_in_the_interval() -> None:
    import datetime as dt

    from ctdata.airflow.dag_factory import dataset_is_due

    day = dt.datetime(2025, 1, 1, 6, tzinfo=dt.UTC)
    monthly, yearly = "0 6 1 * *", "0 6 1 1 *"
    week_of_new_year = {"interval_start": day - dt.timedelta(days=7), "interval_end": day}
    week_in_march = {
        "interval_start": dt.datetime(2025, 3, 3, 6, tzinfo=dt.UTC),
        "interval_end": dt.datetime(2025, 3, 10, 6, tzinfo=dt.UTC),
    }
    assert dataset_is_due(yearly, scheduled=True, **week_of_new_year)
    assert not dataset_is_due(yearly, scheduled=True, **week_in_march)
    assert not dataset_is_due(monthly, scheduled=True, **week_in_march)
    assert dataset_is_due(yearly, scheduled=False, **week_in_march)  # manual runs publish all
    assert not dataset_is_due(None, scheduled=True, **week_in_march)  # "As needed": manual only
