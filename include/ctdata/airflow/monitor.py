"""Tasks report to the monitoring ledger: each step's summary when it succeeds, its error in
words when it fails; a teardown closes the run and appends it to the portal's run-log dataset.

Recorded in the task body, before Airflow learns the task's state, so a downstream task or a
failure callback always finds the record (callbacks run only after the state is reported).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ctdata import settings
from ctdata.errors import CtDataError, ValidationFailed

if TYPE_CHECKING:
    from ctdata.monitoring.ledger import Ledger
    from ctdata.specs import AgencySpec

log = logging.getLogger(__name__)
T = TypeVar("T")


def agency_spec(code: str) -> AgencySpec:
    """The agency's spec as this worker's agencies folder holds it."""
    from ctdata.specs import load_agency

    return load_agency(settings.current().agencies_dir / f"{code}.yaml", skip_invalid_datasets=True)


def ledger_key(agency: AgencySpec, slug: str, ledger: Ledger) -> str:
    """The id the ledger files the dataset under (`dataset_key`). Once the pipeline has created
    the dataset, the runs filed under `<agency>.<slug>` before (this run's first steps among
    them) move to its portal id, so the run is one record however far it got."""
    from ctdata.lifecycle.registry import dataset_key, provisional_key

    dataset = agency.dataset(slug)
    key = dataset_key(agency.code, dataset)
    before = provisional_key(agency.code, slug)
    if dataset.portal_id is None and key != before:
        ledger.rekey(before, key)
    return key


def run_key(agency_code: str, slug: str, ledger: Ledger) -> Any:
    """The ledger key of the current task's dataset run."""
    from airflow.sdk import get_current_context

    from ctdata.monitoring.ledger import RunKey

    key = ledger_key(agency_spec(agency_code), slug, ledger)
    context = get_current_context()
    return RunKey(agency_code, slug, key, context["dag"].dag_id, context["run_id"])


def step_name() -> str:
    from airflow.sdk import get_current_context

    return str(get_current_context()["ti"].task_id).rsplit(".", 1)[-1]


def is_final(error: BaseException, ti: Any) -> bool:
    """Will Airflow give up on the task after this error (no retry left, or none allowed)?"""
    from airflow.sdk.exceptions import AirflowFailException

    if isinstance(error, AirflowFailException):
        return True
    if isinstance(error, CtDataError) and not error.retryable:
        return True
    return int(ti.try_number or 1) > int(ti.max_tries or 0)


def recorded(function: Callable[..., T]) -> Callable[..., T]:
    """Record the step of a task `f(agency_code, slug, ...)` in the ledger. A ledger that
    cannot be written never fails the publication: it is logged and the task goes on."""

    @functools.wraps(function)
    def wrapper(agency_code: str, slug: str, *args: Any, **kwargs: Any) -> T:
        try:
            result = function(agency_code, slug, *args, **kwargs)
        except BaseException as error:
            _record_failure(agency_code, slug, error)
            raise
        _guarded(_record_success, agency_code, slug, result)
        return result

    return wrapper


def _record_success(agency_code: str, slug: str, result: Any) -> None:
    from airflow.sdk import get_current_context

    from ctdata.monitoring.ledger import Ledger

    attempt = int(get_current_context()["ti"].try_number or 1)
    summary = result if isinstance(result, dict) else {"value": result}
    ledger = Ledger()
    ledger.record_step(run_key(agency_code, slug, ledger), step_name(), summary, attempt=attempt)


def _record_failure(agency_code: str, slug: str, error: BaseException) -> None:
    def record() -> None:
        from airflow.sdk import get_current_context

        from ctdata.monitoring.ledger import Ledger
        from ctdata.monitoring.reasons import error_type, failure_reason, root_error

        ti = get_current_context()["ti"]
        validation, reason = None, failure_reason(error)
        if isinstance(root_error(error), ValidationFailed):
            validation = kept_validation(agency_code, slug)
            reason = validation_reason(reason, validation)
        ledger = Ledger()
        ledger.record_failure(
            run_key(agency_code, slug, ledger),
            step_name(),
            error_type(error),
            reason,
            attempt=int(ti.try_number or 1),
            final=is_final(error, ti),
            validation=validation,
        )

    _guarded(record)


def kept_validation(agency_code: str, slug: str) -> dict[str, Any] | None:
    """The failing stage's validation summary, where the validation package keeps one."""
    try:
        from ctdata.validation import load_validation  # type: ignore[attr-defined]
    except (ImportError, AttributeError):
        return None
    from airflow.sdk import get_current_context

    stage = step_name().removeprefix("validate_")
    kept = load_validation(agency_code, slug, str(get_current_context()["run_id"]))
    return kept.get(stage)


def validation_reason(reason: str, kept: dict[str, Any] | None) -> str:
    """With a kept validation summary, its failing expectations (counts only) replace the
    ones read from the error message."""
    from ctdata.monitoring.reasons import validation_failures

    failures = validation_failures(kept or {})
    if not failures:
        return reason
    return "\n".join([reason.splitlines()[0], *(f"- {line}" for line in failures)])


def _guarded(action: Callable[..., None], *args: Any) -> None:
    try:
        action(*args)
    except Exception:  # noqa: BLE001 - monitoring must not fail a publication
        log.exception("Could not write the monitoring ledger (the publication goes on)")


def close_run(agency_code: str, slug: str) -> dict[str, Any]:
    """The teardown's work: the run as the ledger holds it, appended to the run-log dataset."""
    from airflow.sdk import get_current_context

    from ctdata.airflow.runtime import portal_client
    from ctdata.monitoring.ledger import Ledger
    from ctdata.monitoring.run_log import append_run

    agency = agency_spec(agency_code)
    ledger = Ledger()
    run = ledger.close(ledger_key(agency, slug, ledger), str(get_current_context()["run_id"]))
    if run is None:
        log.info("No step of %s ran in this run: nothing to log.", slug)
        return {"logged": False}
    run.pop("steps", None)
    target = settings.current().run_log_dataset_id
    if not target:
        log.info("No run-log dataset configured (CTDATA_RUN_LOG_DATASET_ID): not logged.")
        return {"logged": False, "status": run["status"]}
    with portal_client(agency.socrata_conn_id) as client:
        append_run(client, run)
    log.info("Run of %s %s; row written to the run-log dataset %s.", slug, run["status"], target)
    return {"logged": True, "status": run["status"], "run_log": target}
