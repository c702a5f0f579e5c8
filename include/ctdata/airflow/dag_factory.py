"""Build one `publish_<agency>` DAG per agency spec: one task per step of the agency's flow
(`ctdata.pipeline.flow`), each dataset's steps in its task group.

When and how tasks run (schedule, due rule, retries, timeouts) is in `policies`; what a task
does is its step (`ctdata.pipeline`), run by `operators`. Parse-time work is limited to reading
the YAML specs: tasks import pandas, Great Expectations, SQLAlchemy and the portal client only
when they run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, BaseOperator, TaskGroup

from ctdata import settings
from ctdata.airflow.alerts import FailureNotifier, deadline_alert
from ctdata.airflow.assets import publish_outlet
from ctdata.airflow.dry_run import dag_params
from ctdata.airflow.operators import DatasetStepOperator, SpecErrorOperator
from ctdata.airflow.policies import START_DATE, agency_schedule, agency_timetable, default_args
from ctdata.airflow.review import DatasetReviewOperator
from ctdata.errors import SpecError
from ctdata.pipeline.flow import Step, agency_flow, in_order
from ctdata.specs import AgencySpec, load_all
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
        made = _flow_tasks(agency, dag_cron)
        first = [task for task in made.values() if not task.upstream_task_ids]  # preflight
        for dataset in invalid or []:  # a typo costs its dataset only
            first >> SpecErrorOperator(
                agency_code=agency.code, slug=dataset.slug,
                task_group=TaskGroup(group_id=dataset.slug, tooltip="invalid spec entry"),
            )  # fmt: skip
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


def _flow_tasks(agency: AgencySpec, dag_cron: str | None) -> dict[Step, BaseOperator]:
    """One task per step of the agency's flow (`ctdata.pipeline.flow`), each dataset's in its
    task group; a step's inputs and the steps it waits for are wired from their tasks."""
    groups = {d.slug: TaskGroup(group_id=d.slug, tooltip=d.metadata.title) for d in agency.datasets}
    made: dict[Step, BaseOperator] = {}
    for step in in_order(agency_flow(agency, dag_cron)):
        group = groups[step.slug] if step.slug is not None else None
        if step.group is not None:  # a step over several datasets (a population's protection)
            if step.group not in groups:
                groups[step.group] = TaskGroup(group_id=step.group)
            group = groups[step.group]
        made[step] = task = _task(agency, step, made, group)
        for upstream in step.after:
            made[upstream] >> task
        if step.kind == "teardown":
            task.as_teardown()
    return made


def _task(
    agency: AgencySpec, step: Step, made: dict[Step, BaseOperator], group: TaskGroup | None
) -> BaseOperator:
    """The task that runs one step, taking its inputs from the tasks of their steps."""
    inputs = {
        name: {k: made[s] for k, s in source.items()}
        if isinstance(source, Mapping)
        else made[source]
        for name, source in step.inputs.items()
    }
    options: dict[str, Any] = {"task_group": group}
    if step.despite_skips:  # e.g. a population's protection when one member is not due
        options["trigger_rule"] = "none_failed"
    if step.writes_portal:  # bounds concurrent portal writes across all agencies
        options["pool"] = settings.current().socrata_pool
    if step.publishes:
        options["outlets"] = [publish_outlet(agency.code, agency.dataset(str(step.slug)))]
    if step.kind == "review":
        return DatasetReviewOperator(
            agency_code=agency.code, slug=str(step.slug), inputs=inputs, **options
        )
    return DatasetStepOperator(
        function=step.function, agency_code=agency.code, slug=step.slug, inputs=inputs,
        records=step.records, **options,
    )  # fmt: skip
