"""OPM's review as an Airflow human-in-the-loop approval (Airflow 3.3, standard provider).

The `review` task of a dataset runs the review step (`ctdata.pipeline.review`): whether the
publication needs a reviewer (first publication, or columns added, removed or retyped since
the last approval: see `ctdata.lifecycle.review`). If it does, it writes what the reviewer must
see into the request and waits in Airflow's "awaiting input" state; the reviewer answers in the
UI's Required Actions (or through the REST API). Approve lets the publish go on and the dataset
become public; Reject fails the task with the reviewer's reason before anything is sent, so
nothing public changes. Every outcome is recorded in the monitoring ledger, as for any step.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Param

from ctdata import settings
from ctdata.airflow.operators import pull_inputs, reported, step_name, wire_inputs

log = logging.getLogger(__name__)

REASON = "reason"
HOW_TO_ANSWER = (
    "A reviewer answers in the Airflow UI (Required Actions, or this task's page), or with "
    "`ctdata review approve %s.%s --reason ...` (or `reject`) through the REST API; reviewers: "
    "%s. Under `airflow dags test` the answer needs an API server on the same metadata database "
    "(`airflow api-server`)."
)


class DatasetReviewOperator(ApprovalOperator):
    """Waits for an OPM reviewer's Approve or Reject when the publication needs one.
    `inputs` are the review step's (the publishable table's and its validation's steps)."""

    ui_color = "#f4d58d"

    def __init__(
        self,
        *,
        agency_code: str,
        slug: str,
        inputs: Mapping[str, Any] = {},  # noqa: B006 - read only
        **kwargs: Any,
    ) -> None:
        config = settings.current()
        dag_params = kwargs.pop("params", None) or {}  # given by the DAG the task is built in
        reviewers = [{"id": r, "name": r} for r in config.reviewers] or None
        kwargs.setdefault("task_id", "review")
        super().__init__(
            subject=f"Review before publication: {agency_code}/{slug}",  # titled at run time
            body=None,
            params={
                **dag_params,
                REASON: Param(
                    "",
                    type="string",
                    title="Reason",
                    description="Why you decide so; a rejection's reason ends the run's log.",
                ),
            },
            response_timeout=dt.timedelta(hours=config.review_timeout_hours),
            assigned_users=reviewers,
            **kwargs,
        )
        self.agency_code, self.slug = agency_code, slug
        self.inputs = wire_inputs(self, inputs)

    def execute(self, context: Any) -> Any:
        from ctdata.airflow.runtime import task_run
        from ctdata.pipeline.review import review

        inputs = pull_inputs(context, self.inputs)
        with task_run(context, self.agency_code, self.slug) as run:
            with reported(run, step_name(self), context):
                outcome = review(run, **inputs)
            if isinstance(outcome, dict):  # no review needed (or a dry run)
                run.record(step_name(self), outcome)
                return outcome
        self.subject, self.body = outcome.subject, outcome.body
        reviewers = settings.current().reviewers or "anyone allowed to act on the DAG"
        log.info(HOW_TO_ANSWER, self.agency_code, self.slug, reviewers)
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from ctdata.airflow.runtime import task_run
        from ctdata.lifecycle.review import APPROVE, ReviewNotGiven
        from ctdata.pipeline.review import decide

        with task_run(context, self.agency_code, self.slug) as run:
            with reported(run, step_name(self), context):
                if event.get("error_type") == "timeout":
                    hours = settings.current().review_timeout_hours
                    raise ReviewNotGiven(
                        f"no reviewer decided within {hours} hours; nothing public was changed "
                        "and the next run asks again."
                    )
                if "error" in event:
                    self.process_trigger_event_error(event)
                chosen = list(event["chosen_options"])
                self.validate_chosen_options(chosen)
                reason = str((event.get("params_input") or {}).get(REASON) or "").strip()
                user = event.get("responded_by_user") or {}
                reviewer = str(user.get("name") or user.get("id") or "unknown")
                result = decide(run, approved=chosen == [APPROVE], reviewer=reviewer, reason=reason)
            run.record(step_name(self), result)
        return result
