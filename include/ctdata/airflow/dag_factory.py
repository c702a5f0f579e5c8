"""Build one `publish_<agency>` DAG per agency spec: the DAG's shape only.

When and how tasks run (schedule, due rule, retries, timeouts) is in `policies`; what each task
does is in `tasks`. Parse-time work is limited to reading the YAML specs: tasks import pandas,
Great Expectations, SQLAlchemy and the portal client only when they run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.sdk import DAG, TaskGroup

from ctdata import settings
from ctdata.airflow.alerts import FailureNotifier, deadline_alert
from ctdata.airflow.assets import publish_outlet
from ctdata.airflow.dry_run import dag_params
from ctdata.airflow.operators import DatasetStepOperator
from ctdata.airflow.policies import START_DATE, agency_schedule, agency_timetable, default_args
from ctdata.airflow.preflight import preflight_tasks
from ctdata.airflow.review import DatasetReviewOperator
from ctdata.errors import SpecError
from ctdata.specs import AgencySpec, DatasetSpec, load_all
from ctdata.specs.loader import InvalidDataset


def register_agency_dags(namespace: dict[str, Any], agencies_dir: Path | None = None) -> None:
    """Put a DAG per valid spec into a DAG file's globals. Invalid specs become an import error
    of the DAG file (naming file, field and reason) without hiding the valid agencies' DAGs."""
    specs = load_all(agencies_dir)
    for agency in specs.agencies:
        invalid = [d for d in specs.invalid_datasets if d.agency == agency.code]
        namespace[agency.dag_id] = build_agency_dag(agency, invalid)
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


def build_agency_dag(agency: AgencySpec, invalid: list[InvalidDataset] | None = None) -> DAG:
    dag_cron = agency_schedule(agency)
    timetable = agency_timetable(agency)
    dag = DAG(
        dag_id=agency.dag_id,
        description=f"Publish {agency.name}'s datasets to the CT Open Data Portal",
        schedule=timetable,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["ctdata", "publish", f"agency:{agency.code}"],
        default_args={
            **default_args(agency.airflow_owner),
            "on_failure_callback": FailureNotifier(agency.code),
        },
        deadline=deadline_alert(agency),
        doc_md=agency_doc(agency),
    )
    with dag:
        preflight = preflight_tasks(agency.code, invalid or [])  # before any extract
        preflight >> DatasetStepOperator(
            task_id="sweep_staging", step="sweep_staging", agency_code=agency.code
        )
        for dataset in agency.datasets:
            with TaskGroup(group_id=dataset.slug, tooltip=dataset.metadata.title) as group:
                if dataset.retire is not None:
                    _retirement_tasks(agency.code, dataset)
                else:
                    _dataset_tasks(agency.code, dataset, dag_cron)
            preflight >> group
    # The trigger form's params, given once the tasks exist: a param on the DAG from the start
    # is deep-copied into every task (a third of the parse time at the state's scale). A run's
    # params still carry it: Airflow puts the run's conf into every task's params.
    dag.params.update(dag_params())
    return dag


UNPINNED = "created by the pipeline (`ctdata datasets`)"


def agency_doc(agency: AgencySpec) -> str:
    base = settings.current().portal_url
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
        portal = f"[{d.portal_id}]({base}/d/{d.portal_id})" if d.portal_id else UNPINNED
        lines.append(
            f"| {d.metadata.title} | {portal} | "
            f"{d.metadata.update_frequency} | {d.source.kind} | {suppression} |"
        )
    return "\n".join(lines)


def _dataset_tasks(agency_code: str, dataset: DatasetSpec, dag_cron: str | None) -> None:
    slug = dataset.slug
    pool = settings.current().socrata_pool  # bounds concurrent portal writes across all agencies

    def step(name: str, *inputs: DatasetStepOperator, task_id: str | None = None, **kw: Any):
        return DatasetStepOperator(
            task_id=task_id or name, step=name, agency_code=agency_code, slug=slug,
            inputs=inputs, **kw,
        )  # fmt: skip

    extracted = step("extract")
    if dataset.effective_schedule != dag_cron:
        step("is_due") >> extracted
    checked_source = step("validate", extracted, task_id="validate_source", extra=["source"])
    publishable = "aggregate_and_suppress" if dataset.aggregation else "prepare_records"
    prepared = step(publishable, extracted)
    checked_source >> prepared
    checked = step("validate", prepared, task_id="validate_publishable", extra=["publishable"])
    published = step("publish", prepared, pool=pool, outlets=[publish_outlet(agency_code, dataset)])
    _onboard_and_review(agency_code, slug, prepared, checked, pool) >> published
    synced = step("sync_metadata", pool=pool)
    published >> synced >> step("finish_run").as_teardown()


def _onboard_and_review(
    agency_code: str,
    slug: str,
    prepared: DatasetStepOperator,
    checked: DatasetStepOperator,
    pool: str,
) -> DatasetReviewOperator:
    """Create the dataset (private) if the spec pins no id, then wait for OPM's decision when
    the public would see it for the first time or with changed columns. Returns the last task."""
    onboarded = DatasetStepOperator(
        task_id="onboard", step="onboard", agency_code=agency_code, slug=slug, pool=pool
    )
    reviewed = DatasetReviewOperator(
        task_id="review",
        agency_code=agency_code,
        slug=slug,
        prepared=prepared.output,
        validation=checked.output,
    )
    checked >> onboarded >> reviewed
    return reviewed


def _retirement_tasks(agency_code: str, dataset: DatasetSpec) -> None:
    """A retiring dataset is no longer refreshed: its group runs the retirement process each
    day (notice, retired-assets register, then private after 30 days)."""
    DatasetStepOperator(
        task_id="retire",
        step="retire",
        agency_code=agency_code,
        slug=dataset.slug,
        pool=settings.current().socrata_pool,
    )
