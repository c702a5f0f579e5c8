"""Errors retrying cannot fix fail the task at once; transient ones are left to Airflow's retries."""

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
