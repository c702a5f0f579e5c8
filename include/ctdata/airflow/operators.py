"""The operator every step of an agency DAG runs as.

A plain `BaseOperator` that calls one function of `ctdata.airflow.tasks` with the agency code,
the dataset slug and the results of the upstream steps it names. TaskFlow tasks would do the
same, but each costs three times as much to build: an agency DAG file builds ten per dataset,
and at the state's scale (hundreds of datasets) the dag processor pays that on every parse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from airflow.sdk import BaseOperator


class DatasetStepOperator(BaseOperator):
    """`tasks.<step>(agency_code, slug, *upstream results, *extra)`; the result is the XCom.

    `inputs` are task ids (within the DAG) whose return values are passed on, in order; the
    operator depends on them. `slug` is None for agency-wide steps (e.g. `sweep_staging`).
    """

    template_fields: Sequence[str] = ()
    ui_color = "#e8f1fb"
    ui_fgcolor = "#1a365d"
    STEP_COLORS: ClassVar[dict[str, str]] = {"publish": "#c6f6d5", "sync_metadata": "#c6f6d5"}

    def __init__(
        self,
        *,
        step: str,
        agency_code: str,
        slug: str | None = None,
        inputs: Sequence[BaseOperator] = (),
        extra: Sequence[Any] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.step, self.agency_code, self.slug = step, agency_code, slug
        self.inputs = [upstream.task_id for upstream in inputs]
        self.extra = list(extra)
        self.ui_color = self.STEP_COLORS.get(step, self.ui_color)
        for upstream in inputs:
            upstream >> self

    def execute(self, context: Any) -> Any:
        from ctdata.airflow import tasks

        pulled = [context["ti"].xcom_pull(task_ids=task_id) for task_id in self.inputs]
        function = getattr(tasks, self.step)
        if self.slug is None:
            return function(self.agency_code, *pulled, *self.extra)
        return function(self.agency_code, self.slug, *pulled, *self.extra)
