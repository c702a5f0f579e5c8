"""The operator every step of an agency DAG runs as, and how a task reports its step.

`DatasetStepOperator` runs one step of the agency's flow (`ctdata.pipeline.flow`): it builds
the task's run once (`runtime.task_run`), pulls the results of the steps the step takes as
inputs (their task ids are taken from the upstream operators when the DAG is built, never typed
by hand), calls the step and writes its outcome to the monitoring ledger through the run. A
plain `BaseOperator` rather than a TaskFlow task: each of those costs three times as much to
build, and at the state's scale (hundreds of datasets) the DAG processor pays that on every
parse.

Outcomes are recorded in the task body, before Airflow learns the task's state, so a downstream
task or a failure callback always finds the record (callbacks run only after the state is
reported).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from ctdata.pipeline.run import AgencyRun

InputIds = Mapping[str, "str | Mapping[str, str]"]


class DatasetStepOperator(BaseOperator):
    """`function(run, **inputs)` for the agency's dataset `slug` (None: an agency-wide step);
    the result is the XCom. `inputs` maps the function's parameters to the operators (or
    mappings of operators) whose results it takes; the task depends on each of them."""

    template_fields: Sequence[str] = ()
    ui_color = "#e8f1fb"
    ui_fgcolor = "#1a365d"
    STEP_COLORS: ClassVar[dict[str, str]] = {"publish": "#c6f6d5", "sync_metadata": "#c6f6d5"}

    def __init__(
        self,
        *,
        function: Callable[..., Any],
        agency_code: str,
        slug: str | None = None,
        inputs: Mapping[str, Any] = {},  # noqa: B006 - read only
        records: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("task_id", function.__name__)
        super().__init__(**kwargs)
        self.step_function, self.agency_code, self.slug = function, agency_code, slug
        self.inputs = wire_inputs(self, inputs)
        self.records = records and slug is not None  # the ledger is kept per dataset
        self.ui_color = self.STEP_COLORS.get(function.__name__, self.ui_color)

    def execute(self, context: Any) -> Any:
        from ctdata.airflow.assets import emit_publish_event
        from ctdata.airflow.runtime import task_run

        inputs = pull_inputs(context, self.inputs)
        run = task_run(context, self.agency_code, self.slug)
        with run, reported(run, step_name(self), context, records=self.records):
            result = self.step_function(run, **inputs)
        if self.records:
            run.record(step_name(self), result)
        if self.outlets and isinstance(result, dict) and "dataset_id" in result:
            emit_publish_event(context, result)
        return result


def step_name(task: BaseOperator) -> str:
    """The step a task runs: its id within its dataset's group."""
    return str(task.task_id).rsplit(".", 1)[-1]


def wire_inputs(task: BaseOperator, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Make `task` depend on every operator of `inputs`; return their task ids, by parameter."""
    wired: dict[str, Any] = {}
    for name, source in inputs.items():
        if isinstance(source, Mapping):
            for upstream in source.values():
                upstream >> task
            wired[name] = {key: upstream.task_id for key, upstream in source.items()}
        else:
            source >> task
            wired[name] = source.task_id
    return wired


def pull_inputs(context: Any, inputs: InputIds) -> dict[str, Any]:
    """The results of this run's upstream tasks, as the step takes them."""
    ti = context["ti"]
    return {
        name: {key: ti.xcom_pull(task_ids=task_id) for key, task_id in source.items()}
        if isinstance(source, Mapping)
        else ti.xcom_pull(task_ids=source)
        for name, source in inputs.items()
    }


@contextmanager
def reported(run: AgencyRun, step: str, context: Any, *, records: bool = True) -> Iterator[None]:
    """Run a step's body the way every task does: a step with nothing to do skips the task
    (and the steps after it); an error that retrying cannot help fails the task at once
    (`policies.fail_fast`); a failure is written to the ledger before it is raised, as the
    last one when Airflow will not retry."""
    from airflow.sdk.exceptions import AirflowSkipException, TaskDeferred

    from ctdata.airflow.policies import fail_fast
    from ctdata.pipeline.run import DatasetRun, NotDue

    try:
        try:
            yield
        except NotDue as exc:
            raise AirflowSkipException(str(exc)) from exc
        except Exception as exc:  # a CtDataError that retrying cannot help becomes final
            fail_fast(_reraise)(exc)
    except (AirflowSkipException, TaskDeferred):
        raise
    except BaseException as error:
        if records and isinstance(run, DatasetRun):
            run.record_failure(step, error, final=is_final(error, context["ti"]))
        raise


def _reraise(error: BaseException) -> None:
    raise error


def is_final(error: BaseException, ti: Any) -> bool:
    """Will Airflow give up on the task after this error (no retry left, or none allowed)?"""
    from airflow.sdk.exceptions import AirflowFailException

    from ctdata.errors import retry_can_help

    if isinstance(error, AirflowFailException) or not retry_can_help(error):
        return True  # the retry policy (`policies.RETRY_POLICY`) fails it at once
    return int(ti.try_number or 1) > int(ti.max_tries or 0)


class SpecErrorOperator(BaseOperator):
    """`<slug>.spec_error`: a dataset whose spec entry does not validate fails at once with the
    reason, alerting as any failed task does, while the agency's other datasets publish. The
    spec is read again when the task runs: it may have been fixed since the parse."""

    ui_color = "#f8b4b4"

    def __init__(self, *, agency_code: str, slug: str, **kwargs: Any) -> None:
        kwargs.setdefault("task_id", "spec_error")
        super().__init__(**kwargs)
        self.agency_code, self.slug = agency_code, slug

    def execute(self, context: Any) -> Any:
        from ctdata import settings
        from ctdata.errors import SpecError
        from ctdata.specs.loader import read_agency

        read = read_agency(settings.current().agencies_dir / f"{self.agency_code}.yaml")
        for invalid in read.invalid:
            if invalid.slug == self.slug:
                raise invalid.error
        raise SpecError(
            f"dataset {self.slug!r} of {self.agency_code!r} was invalid when the DAG was parsed "
            "and validates now: the next parse of the DAG file publishes it"
        )
