"""The task bodies of an agency DAG: thin wrappers that load the spec, call a pipeline step and
log what it did in words a data officer understands. Each runs as a `DatasetStepOperator`
(`ctdata.airflow.operators`) called with the agency code, the slug and its inputs' results.

Tasks receive the agency code and dataset slug, never a path fixed at parse time: each worker
finds the spec in its own agencies folder (workers and DAG bundles may see other paths).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from airflow.sdk import get_current_context
from airflow.sdk.exceptions import AirflowSkipException

from ctdata import settings
from ctdata.airflow import dry_run
from ctdata.airflow.assets import emit_publish_event
from ctdata.airflow.monitor import close_run, recorded
from ctdata.airflow.policies import dataset_is_due, fail_fast
from ctdata.airflow.runtime import (
    airflow_connection,
    airflow_staging,
    load_dataset,
    portal_client,
)

if TYPE_CHECKING:
    from ctdata.specs import DatasetSpec

log = logging.getLogger(__name__)


def _run_id() -> str:
    return str(get_current_context()["run_id"])


def _is_scheduled(dag_run: Any) -> bool:
    return str(getattr(dag_run, "run_type", "")).lower().endswith("scheduled")


def is_due(agency_code: str, slug: str) -> bool:
    """On scheduled runs, go on only when the dataset's own schedule has fired since its last
    successful publish (the agency DAG runs at its most frequent dataset's pace)."""
    from ctdata.lifecycle.registry import resolve_portal_id
    from ctdata.publishing.state import StateStore

    _, dataset = load_dataset(agency_code, slug)
    dag_run = get_current_context()["dag_run"]
    if not _is_scheduled(dag_run):
        log.info("Manual run: %s is published whatever its schedule.", slug)
        return True
    at = dag_run.run_after or dag_run.logical_date or dt.datetime.now(dt.UTC)
    portal_id = resolve_portal_id(agency_code, dataset)
    last = StateStore().last_success(portal_id) if portal_id else None
    due = dataset_is_due(dataset.effective_schedule, scheduled=True, at=at, last_success=last)
    log.info(
        "%s (%s, schedule %s): last successful publish %s; %s.",
        slug,
        dataset.metadata.update_frequency,
        dataset.effective_schedule or "none",
        last.isoformat() if last else "never",
        "due now" if due else "not due in this run, skipped",
    )
    if not due:  # its steps are skipped; the teardowns still run
        raise AirflowSkipException(f"{slug} is not due in this run")
    return True


@recorded
@fail_fast
def extract(agency_code: str, slug: str) -> dict[str, Any]:
    from ctdata.pipeline import steps

    agency, dataset = load_dataset(agency_code, slug)
    result = steps.extract(agency, dataset, _run_id(), airflow_staging(), airflow_connection)
    log.info(
        "Extracted %s rows (%s columns) from the %s source; staged at %s.",
        f"{result['rows']:,}",
        len(result["columns"]),
        dataset.source.kind,
        result["path"],
    )
    return result


@recorded
@fail_fast
def validate(agency_code: str, slug: str, staged: dict[str, Any], stage: str) -> dict[str, Any]:
    from ctdata.pipeline import steps

    _, dataset = load_dataset(agency_code, slug)
    suites = dataset.expectations.source if stage == "source" else dataset.expectations.publishable
    return steps.validate(
        airflow_staging(),
        staged["path"],
        suites,
        dataset,
        stage,
        agency=agency_code,
        run_id=_run_id(),
    )


@recorded
@fail_fast
def aggregate_and_suppress(agency_code: str, slug: str, staged: dict[str, Any]) -> dict[str, Any]:
    from ctdata.pipeline import steps

    agency, dataset = load_dataset(agency_code, slug)
    result = steps.aggregate_and_suppress(
        agency, dataset, staged["path"], _run_id(), airflow_staging()
    )
    log.info(
        "Aggregated to %s cells; suppressed %s (%s primary, %s complementary); "
        "disclosure audit %s; staged at %s.",
        f"{result['rows']:,}",
        result["cells_suppressed"],
        result["primary"],
        result["complementary"],
        "passed" if result["audit_passed"] else "FAILED",
        result["path"],
    )
    return result


@recorded
@fail_fast
def prepare_records(agency_code: str, slug: str, staged: dict[str, Any]) -> dict[str, Any]:
    from ctdata.pipeline import steps

    agency, dataset = load_dataset(agency_code, slug)
    result = steps.prepare_records(agency, dataset, staged["path"], _run_id(), airflow_staging())
    log.info("Prepared %s record-level rows; staged at %s.", f"{result['rows']:,}", result["path"])
    return result


@fail_fast
def onboard(agency_code: str, slug: str) -> dict[str, Any]:
    """Make sure the dataset exists on the portal: a spec without portal_id gets its dataset
    created (private, with its columns and metadata) once, and the id recorded."""
    from ctdata.pipeline import steps

    if dry_run.is_dry_run():
        return dry_run.log_onboarding(agency_code, slug)
    agency, dataset = load_dataset(agency_code, slug)
    with portal_client(agency.socrata_conn_id) as client:
        done = steps.onboard(agency, dataset, client)
    portal_id = done["portal_id"]
    log.info(ONBOARDED[done["how"]], portal_id, f"{settings.current().portal_url}/d/{portal_id}")
    return done


ONBOARDED = {
    "pinned": "Dataset %s is pinned in the spec (%s).",
    "registered": "Dataset %s was created by an earlier run; its id is in the state store (%s).",
    "found": "Dataset %s, made by an earlier attempt whose answer was lost, is now recorded (%s).",
    "created": "Created dataset %s on the portal, private, with the spec's columns, row "
    "identifier and metadata; its id is recorded in the state store (%s).",
}


@recorded
@fail_fast
def publish(agency_code: str, slug: str, prepared: dict[str, Any]) -> dict[str, Any]:
    from ctdata.pipeline import steps

    if dry_run.is_dry_run():
        return dry_run.log_plan(agency_code, slug, prepared)
    agency, dataset = load_dataset(agency_code, slug)
    with portal_client(agency.socrata_conn_id) as client:
        result = steps.publish(agency, dataset, prepared["path"], client, airflow_staging())
    log.info(
        "Published to %s: %s created, %s changed, %s deleted, %s unchanged; %s bytes sent.",
        result["dataset_id"],
        result["created"],
        result["updated"],
        result["deleted"],
        result["unchanged"],
        f"{result['bytes_sent']:,}",
    )
    emit_publish_event(get_current_context(), result)
    return result


@recorded
@fail_fast
def sync_metadata(agency_code: str, slug: str) -> dict[str, Any]:
    from ctdata.pipeline import steps

    if dry_run.is_dry_run():
        return dry_run.log_skipped("writing metadata and visibility")
    agency, dataset = load_dataset(agency_code, slug)
    coverage = _published_facts(slug).get("temporal_coverage")
    with portal_client(agency.socrata_conn_id) as client:
        result = steps.sync_metadata(agency, dataset, client, temporal_coverage=coverage)
    changed = ", ".join(result["changed_fields"]) or "nothing"
    log.info(
        "Metadata of %s: changed %s; temporal coverage %s; data dictionary %s; public: %s.",
        result["portal_id"],
        changed,
        result["temporal_coverage"],
        result["data_dictionary"],
        result["public"],
    )
    return result


def _published_facts(slug: str) -> dict[str, Any]:
    """What this run's publish task learnt from the data (e.g. the derived temporal coverage)."""
    published = get_current_context()["ti"].xcom_pull(task_ids=f"{slug}.publish")
    return published if isinstance(published, dict) else {}


@recorded
@fail_fast
def retire(agency_code: str, slug: str) -> dict[str, Any]:
    """The state's retirement process for a dataset whose spec has a `retire:` block, as it
    stands on the run's date (ctdata.retirement.process): notice, register row, then private."""
    from ctdata.lifecycle.registry import with_portal_ids
    from ctdata.retirement.process import advance_retirement
    from ctdata.specs.registers import load_registers_config

    agency, dataset = load_dataset(agency_code, slug)
    [agency] = with_portal_ids([agency])  # a dataset the pipeline created retires by its id
    dataset = agency.dataset(slug)
    registers = load_registers_config()
    today = run_date()
    with (
        portal_client(agency.socrata_conn_id) as client,
        portal_client(registers.socrata_conn_id) as register_client,
    ):
        result = advance_retirement(
            agency,
            dataset,
            client,
            today=today,
            registers=registers,
            register_client=register_client,
            staging=airflow_staging(),
            run_id=_run_id(),
        )
    _log_retirement(dataset, today, result)
    return result


def _log_retirement(dataset: DatasetSpec, today: dt.date, result: dict[str, Any]) -> None:
    stage = result["stage"]
    if stage == "scheduled":
        log.info(
            "Retirement of %s (%s): the notice goes up on %s; nothing to do on %s.",
            dataset.slug, dataset.portal_id, result["notice_date"], today,
        )  # fmt: skip
        return
    register = result["register"] or {}
    log.info(
        "Retirement of %s (%s) on %s: %s (notice %s, removal %s); metadata changed: %s; "
        "retired-assets register: %s created, %s updated, %s unchanged; %s.",
        dataset.slug,
        dataset.portal_id,
        today,
        stage,
        result["notice_date"],
        result["removal_date"],
        ", ".join(result["changed_fields"]) or "nothing",
        register.get("created"),
        register.get("updated"),
        register.get("unchanged"),
        "made private now" if result["made_private"] else "visibility unchanged",
    )


def run_date() -> dt.date:
    """The run's date on the state's clock: the end of its data interval (or its logical date;
    a manual run without one: now). Rerunning a run replays its date."""
    import pendulum

    from ctdata.airflow.policies import STATE_TIMEZONE

    context = get_current_context()
    when = (
        context.get("data_interval_end")
        or context.get("logical_date")
        or pendulum.now(STATE_TIMEZONE)
    )
    return pendulum.instance(when).in_timezone(STATE_TIMEZONE).date()


def finish_run(agency_code: str, slug: str) -> dict[str, Any]:
    """The dataset's teardown, run whatever happened upstream (it never turns a failed run
    green): clean the staging area, then close the run in the monitoring ledger and append it
    to the portal's run-log dataset, a failed run too. One task rather than two: each task costs
    parse time, paid for every dataset of the state on every parse."""
    try:
        cleaned = clean_staging(agency_code, slug)
    finally:
        logged = close_run(agency_code, slug)
    return {**cleaned, **logged}


def clean_staging(agency_code: str, slug: str) -> dict[str, Any]:
    """Raw extracts do not outlive the run: delete the run's staged files once it has published;
    after a failure keep them (for debugging) until `sweep_staging` removes them."""
    context = get_current_context()
    published = context["ti"].xcom_pull(task_ids=f"{slug}.publish") is not None
    staging = airflow_staging()
    run_id = _run_id()
    if published:
        removed = staging.remove_run(agency_code, slug, run_id)
        log.info("Published: staged files of this run %s.", "deleted" if removed else "were gone")
    else:
        days = settings.current().staging_keep_failed_days
        log.warning(
            "Not published: staged files kept for %s days for debugging at %s.",
            days,
            staging.run_dir(agency_code, slug, run_id),
        )
    return {"published": published}


def sweep_staging(agency_code: str) -> list[str]:
    """Delete staged files of this agency's runs older than the debugging window."""
    days = settings.current().staging_keep_failed_days
    removed = airflow_staging().sweep(agency_code, dt.timedelta(days=days))
    log.info("Removed %s staged run folder(s) older than %s days.", len(removed), days)
    return removed
