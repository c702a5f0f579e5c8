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


def _http_error(status: int) -> Exception:
    import requests

    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(f"{status}", response=response)


def _raw_errors() -> dict[str, tuple[BaseException, bool]]:
    """Errors of libraries and Airflow a task can meet, and whether a retry may help."""
    import pyarrow as pa
    import sqlalchemy as sa
    from airflow.exceptions import AirflowNotFoundException

    return {
        "ArrowInvalid (a value that does not convert)": (pa.ArrowInvalid("2O23"), False),
        "ValueError (Unable to parse string)": (ValueError('Unable to parse "two"'), False),
        "KeyError (a missing column)": (KeyError("town"), False),
        "AirflowNotFoundException (no connection)": (AirflowNotFoundException("x"), False),
        "HTTP 401 from a library": (_http_error(401), False),
        "HTTP 404 from a library": (_http_error(404), False),
        "HTTP 429 from a library": (_http_error(429), True),
        "HTTP 503 from a library": (_http_error(503), True),
        "ConnectionError": (ConnectionError("reset"), True),
        "database down": (sa.exc.OperationalError("SELECT 1", {}, Exception("down")), True),
        "an unforeseen error": (RuntimeError("?"), True),
    }


@pytest.mark.parametrize("name", sorted(_raw_errors()))
def test_the_retry_policy_classifies_every_kind_of_error(name: str) -> None:
    from airflow.sdk.definitions.retry_policy import RetryAction

    from ctdata.airflow.policies import RETRY_POLICY

    error, retry_helps = _raw_errors()[name]
    decision = RETRY_POLICY.evaluate(error, try_number=1, max_tries=4)
    assert decision.action is (RetryAction.DEFAULT if retry_helps else RetryAction.FAIL), name


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_the_retry_policy_follows_each_pipeline_error(cls: type[CtDataError]) -> None:
    from airflow.sdk.definitions.retry_policy import RetryAction

    from ctdata.airflow.policies import RETRY_POLICY

    decision = RETRY_POLICY.evaluate(cls("what went wrong"), try_number=1, max_tries=4)
    assert (decision.action is RetryAction.FAIL) is (cls not in RETRYABLE)


def test_one_retry_policy_serves_every_task_of_every_dag() -> None:
    """The agency DAGs, usage_metrics and inventories, the review operator included."""
    from airflow.dag_processing.dagbag import DagBag

    from ctdata import settings
    from ctdata.airflow.policies import RETRY_POLICY

    dagbag = DagBag(dag_folder=str(settings.PROJECT_ROOT / "dags"))
    assert {"usage_metrics", "inventories", "publish_ocme"} <= set(dagbag.dag_ids)
    reviews = 0
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            assert task.retry_policy is RETRY_POLICY, f"{dag.dag_id}.{task.task_id}"
            assert task.retries >= 1
            reviews += task.task_id.endswith(".review")
    assert reviews >= 1


def test_the_first_retry_waits_the_set_delay_then_doubles(monkeypatch) -> None:
    import datetime as dt

    from ctdata.airflow.policies import default_args

    assert default_args("opm")["retry_delay"] == dt.timedelta(minutes=2)
    monkeypatch.setenv("CTDATA_RETRY_DELAY_SECONDS", "5")
    args = default_args("opm")
    assert args["retry_delay"] == dt.timedelta(seconds=5)
    assert args["retry_exponential_backoff"] == 2.0 and args["retries"] == 3
