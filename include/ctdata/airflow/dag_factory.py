"""Build one `publish_<agency>` DAG per agency spec.

Parse-time work is limited to reading the YAML specs: tasks import pandas, Great
Expectations, SQLAlchemy and the portal client only when they run.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from airflow.sdk import DAG, TaskGroup, get_current_context, task

from ctdata import settings
from ctdata.errors import CtDataError, SpecError
from ctdata.specs import AgencySpec, DatasetSpec, load_all
from ctdata.specs.vocabulary import SCHEDULE_BY_FREQUENCY

START_DATE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
# Most to least frequent; an agency DAG runs at its most frequent dataset's schedule.
_FREQUENCY_ORDER = [s for s in SCHEDULE_BY_FREQUENCY.values() if s is not None]

DEFAULT_ARGS: dict[str, Any] = {
    "retries": 3,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(hours=1),
}


def portal_url() -> str:
    """Base URL shown in DAG docs (no connection lookup at parse time)."""
    return os.environ.get("CTDATA_PORTAL_URL", "https://data.ct.gov").rstrip("/")


def register_agency_dags(namespace: dict[str, Any], agencies_dir: Path | None = None) -> None:
    """Put a DAG per valid spec into a DAG file's globals. Invalid specs become an import error
    of the DAG file (naming file, field and reason) without hiding the valid agencies' DAGs."""
    specs = load_all(agencies_dir)
    for agency in specs.agencies:
        namespace[agency.dag_id] = build_agency_dag(agency)
    if specs.errors:
        namespace["invalid_agency_specs"] = InvalidSpecsDAG(specs.errors)


class InvalidSpecsDAG(DAG):
    """Carries spec errors to the DAG processor. Airflow validates every DAG of a file before
    bagging it and records a failure as that file's import error while still bagging the
    file's other DAGs, which is exactly how a bad spec should show in the UI."""

    def __init__(self, errors: list[SpecError]) -> None:
        super().__init__(dag_id="invalid_agency_specs", schedule=None, start_date=START_DATE)
        self.spec_errors = errors

    def validate(self) -> None:
        details = "\n".join(str(error) for error in self.spec_errors)
        raise SpecError(f"{len(self.spec_errors)} agency spec(s) are invalid:\n{details}")


def build_agency_dag(agency: AgencySpec) -> DAG:
    spec_path = str(settings.agencies_dir() / f"{agency.code}.yaml")
    dag = DAG(
        dag_id=agency.dag_id,
        description=f"Publish {agency.name}'s datasets to the CT Open Data Portal",
        schedule=agency_schedule(agency),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["ctdata", "publish", f"agency:{agency.code}"],
        default_args={**DEFAULT_ARGS, "owner": agency.airflow_owner},
        doc_md=agency_doc(agency),
    )
    with dag:
        for dataset in agency.datasets:
            with TaskGroup(group_id=dataset.slug, tooltip=dataset.metadata.title):
                _dataset_tasks(
                    spec_path, dataset, dag.schedule if isinstance(dag.schedule, str) else None
                )
    return dag


def agency_schedule(agency: AgencySpec) -> str | None:
    schedules = {d.effective_schedule for d in agency.datasets} - {None}
    if not schedules:
        return None
    known = [s for s in _FREQUENCY_ORDER if s in schedules]
    return known[0] if known else sorted(schedules)[0]


def agency_doc(agency: AgencySpec) -> str:
    base = portal_url()
    lines = [
        f"# {agency.name}",
        f"Data officer: {agency.data_officer.name} <{agency.data_officer.email}>. "
        f"Portal connection: `{agency.socrata_conn_id}`.",
        "",
        "| dataset | portal | update frequency | source | suppression |",
        "|---|---|---|---|---|",
    ]
    for d in agency.datasets:
        suppression = f"threshold {d.aggregation.threshold}" if d.aggregation else "record level"
        lines.append(
            f"| {d.metadata.title} | [{d.portal_id}]({base}/d/{d.portal_id}) | "
            f"{d.metadata.update_frequency} | {d.source.kind} | {suppression} |"
        )
    return "\n".join(lines)


def _dataset_tasks(spec_path: str, dataset: DatasetSpec, dag_schedule: str | None) -> None:
    slug = dataset.slug
    first = None
    if dataset.effective_schedule != dag_schedule:
        first = is_due.override(task_id="is_due")(spec_path, slug)

    extracted = extract.override(task_id="extract")(spec_path, slug)
    checked_source = validate.override(task_id="validate_source")(
        spec_path, slug, extracted, "source"
    )
    if dataset.aggregation is not None:
        prepared = aggregate_and_suppress.override(task_id="aggregate_and_suppress")(
            spec_path, slug, extracted
        )
    else:
        prepared = prepare_records.override(task_id="prepare_records")(spec_path, slug, extracted)
    checked = validate.override(task_id="validate_publishable")(
        spec_path, slug, prepared, "publishable"
    )
    published = publish.override(task_id="publish")(spec_path, slug, prepared)
    synced = sync_metadata.override(task_id="sync_metadata")(spec_path, slug)

    if first is not None:
        first >> extracted
    checked_source >> prepared
    checked >> published >> synced


T = TypeVar("T")


def fail_fast(function: Callable[..., T]) -> Callable[..., T]:
    """Retrying cannot fix a bad spec, data that breaks its expectations, a table that cannot be
    protected or data the portal's schema refuses: fail such tasks at once, keeping retries for
    what can pass later (a source or portal that is down, an ambiguous write)."""

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


def _load(spec_path: str, slug: str) -> tuple[AgencySpec, DatasetSpec]:
    from ctdata.specs import load_agency

    agency = load_agency(spec_path)
    return agency, agency.dataset(slug)


def _run_id() -> str:
    return str(get_current_context()["run_id"])


def _client(agency: AgencySpec):  # noqa: ANN202 - keeps the portal client import lazy
    from ctdata.airflow.hooks import SocrataHook

    return SocrataHook(agency.socrata_conn_id).get_client()


@task.short_circuit
def is_due(spec_path: str, slug: str) -> bool:
    """On scheduled runs, skip a dataset whose own schedule does not fire inside this run's data
    interval (the agency DAG runs at its most frequent dataset's pace). Manual runs publish all."""
    _, dataset = _load(spec_path, slug)
    context = get_current_context()
    return dataset_is_due(
        dataset.effective_schedule,
        scheduled=str(context["dag_run"].run_type).lower().endswith("scheduled"),
        interval_start=context["data_interval_start"],
        interval_end=context["data_interval_end"],
    )


def dataset_is_due(
    schedule: str | None, *, scheduled: bool, interval_start: dt.datetime, interval_end: dt.datetime
) -> bool:
    if not scheduled:
        return True
    if schedule is None:
        return False
    from croniter import croniter

    return croniter(schedule, interval_start).get_next(dt.datetime) <= interval_end


@task
@fail_fast
def extract(spec_path: str, slug: str) -> dict[str, Any]:
    from ctdata.pipeline import steps

    return steps.extract(*_load(spec_path, slug), _run_id())


@task
@fail_fast
def validate(spec_path: str, slug: str, staged: dict[str, Any], stage: str) -> dict[str, Any]:
    from ctdata.pipeline import steps

    _, dataset = _load(spec_path, slug)
    suites = dataset.expectations.source if stage == "source" else dataset.expectations.publishable
    return steps.validate(staged["path"], suites, dataset, stage)


@task
@fail_fast
def aggregate_and_suppress(spec_path: str, slug: str, staged: dict[str, Any]) -> dict[str, Any]:
    from ctdata.pipeline import steps

    return steps.aggregate_and_suppress(*_load(spec_path, slug), staged["path"], _run_id())


@task
@fail_fast
def prepare_records(spec_path: str, slug: str, staged: dict[str, Any]) -> dict[str, Any]:
    from ctdata.pipeline import steps

    return steps.prepare_records(*_load(spec_path, slug), staged["path"], _run_id())


@task
@fail_fast
def publish(spec_path: str, slug: str, prepared: dict[str, Any]) -> dict[str, Any]:
    from ctdata.pipeline import steps

    agency, dataset = _load(spec_path, slug)
    return steps.publish(agency, dataset, prepared["path"], _client(agency))


@task
@fail_fast
def sync_metadata(spec_path: str, slug: str) -> dict[str, Any]:
    from ctdata.pipeline import steps

    agency, dataset = _load(spec_path, slug)
    return steps.sync_metadata(agency, dataset, _client(agency))
