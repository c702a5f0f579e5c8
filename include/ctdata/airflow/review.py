"""OPM's review as an Airflow human-in-the-loop approval (Airflow 3.3, standard provider).

The `review` task of a dataset decides whether the publication needs a reviewer (first
publication, or columns added, removed or retyped since the last approval: see
`ctdata.lifecycle.review`). If it does, it writes what the reviewer must see into the request and
waits in Airflow's "awaiting input" state; the reviewer answers in the UI's Required Actions (or
through the REST API). Approve lets the publish go on and the dataset become public; Reject
fails the task with the reviewer's reason before anything is sent, so nothing public changes.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Param
from airflow.sdk.exceptions import AirflowFailException

from ctdata import settings
from ctdata.airflow.dry_run import is_dry_run, log_skipped
from ctdata.airflow.runtime import airflow_staging, portal_client

log = logging.getLogger(__name__)

REASON = "reason"
HOW_TO_ANSWER = (
    "Waiting for an OPM reviewer's decision (%s). A reviewer answers in the Airflow UI (Required "
    "Actions, or this task's page), or with `ctdata review approve %s.%s --reason ...` (or "
    "`reject`) through the REST API; reviewers: %s. Under `airflow dags test` the answer "
    "needs an API server on the same metadata database (`airflow api-server`)."
)


class DatasetReviewOperator(ApprovalOperator):
    """Waits for an OPM reviewer's Approve or Reject when the publication needs one."""

    template_fields = (*ApprovalOperator.template_fields, "prepared", "validation")
    ui_color = "#f4d58d"

    def __init__(
        self,
        *,
        agency_code: str,
        slug: str,
        prepared: Any,
        validation: Any = None,
        **kwargs: Any,
    ) -> None:
        config = settings.current()
        dag_params = kwargs.pop("params", None) or {}  # given by the DAG the task is built in
        reviewers = [{"id": r, "name": r} for r in config.reviewers] or None
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
        self.prepared, self.validation = prepared, validation

    def execute(self, context: Any) -> Any:
        from ctdata.airflow.runtime import load_dataset
        from ctdata.lifecycle.registry import DatasetRegistry, require_portal_id
        from ctdata.lifecycle.review import ALREADY_PUBLIC, decision, review_need

        if is_dry_run(context):
            return log_skipped("asking for OPM's review")
        agency, dataset = load_dataset(self.agency_code, self.slug)
        registry = DatasetRegistry()
        portal_id = require_portal_id(agency.code, dataset, registry)
        with portal_client(agency.socrata_conn_id) as client:
            view = client.get_metadata(portal_id)
        need = review_need(agency.code, dataset, view, registry)
        if need.already_public:
            registry.record_decision(
                decision(agency.code, dataset, portal_id, approved=True, reviewer=ALREADY_PUBLIC)
            )
            log.info("Dataset %s was public with these columns already: no review.", portal_id)
            return {"review": "not needed", "portal_id": portal_id}
        if not need:
            log.info("No review needed: not a first publication and no column changed.")
            return {"review": "not needed", "portal_id": portal_id}
        self._write_request(agency, dataset, portal_id, need)
        log.info(HOW_TO_ANSWER, "; ".join(need.reasons), agency.code, self.slug,
                 settings.current().reviewers or "anyone allowed to act on the DAG")  # fmt: skip
        return super().execute(context)

    def _write_request(self, agency: Any, dataset: Any, portal_id: str, need: Any) -> None:
        from ctdata.lifecycle.review_request import review_request

        frame = airflow_staging().read_frame(self.prepared["path"])
        link = f"{settings.current().portal_url}/d/{portal_id}"
        request = review_request(agency, dataset, link, need, frame, self.prepared, self.validation)
        self.subject, self.body = request.subject, request.body

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from ctdata.airflow.runtime import load_dataset
        from ctdata.lifecycle.registry import DatasetRegistry, resolve_portal_id
        from ctdata.lifecycle.review import APPROVE, ReviewNotGiven, ReviewRejected, decision

        agency, dataset = load_dataset(self.agency_code, self.slug)
        if event.get("error_type") == "timeout":
            hours = settings.current().review_timeout_hours
            raise AirflowFailException(
                f"{ReviewNotGiven.__name__}: no reviewer decided within {hours} hours; nothing "
                "public was changed and the next run asks again."
            )
        if "error" in event:
            self.process_trigger_event_error(event)
        chosen = list(event["chosen_options"])
        self.validate_chosen_options(chosen)
        reason = str((event.get("params_input") or {}).get(REASON) or "").strip()
        user = event.get("responded_by_user") or {}
        reviewer = str(user.get("name") or user.get("id") or "unknown")
        approved = chosen == [APPROVE]
        registry = DatasetRegistry()
        portal_id = resolve_portal_id(agency.code, dataset, registry)
        registry.record_decision(
            decision(
                agency.code,
                dataset,
                portal_id,
                approved=approved,
                reviewer=reviewer,
                reason=reason,
                run_id=str(context["run_id"]),
            )  # fmt: skip
        )
        if not approved:
            raise AirflowFailException(
                f"{ReviewRejected.__name__}: {dataset.metadata.title} was rejected by {reviewer}: "
                f"{reason or 'no reason given'}. Nothing public was changed; dataset {portal_id} "
                "stays private. Fix the spec or data and rerun to ask again."
            )
        log.info("Approved by %s%s: publishing.", reviewer, f" ({reason})" if reason else "")
        return {"review": "approved", "reviewer": reviewer, "reason": reason,
                "portal_id": portal_id}  # fmt: skip
