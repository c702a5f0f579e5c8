"""Task policies: errors retrying cannot fix fail at once; datasets run on their own schedule."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException

from ctdata import errors
from ctdata.airflow.policies import fail_fast
from ctdata.errors import CtDataError

RETRYABLE = {
    errors.SourceUnavailableError,
    errors.PortalUnavailableError,
    errors.AmbiguousWriteError,
}


def _raising(error: Exception):
    @fail_fast
    def task_body() -> None:
        raise error

    return task_body


def _error_classes() -> list[type[CtDataError]]:
    found = [CtDataError]
    for cls in found:
        found.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__ == errors.__name__]


def test_every_error_class_says_whether_retrying_helps() -> None:
    classes = _error_classes()
    assert len(classes) >= 12
    assert {cls for cls in classes if cls.retryable} == RETRYABLE


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_tasks_fail_at_once_unless_retrying_can_help(cls: type[CtDataError]) -> None:
    error = cls("what went wrong")
    if cls in RETRYABLE:
        with pytest.raises(cls):  # Airflow's retries (with backoff) take over
            _raising(error)()
    else:
        with pytest.raises(AirflowFailException, match=f"{cls.__name__}: what went wrong"):
            _raising(error)()


def test_return_value_passes_through() -> None:
    assert fail_fast(lambda: {"rows": 3})() == {"rows": 3}
