"""The review step: does this publication need OPM's decision, what the reviewer reads, and the
decision once given (the rules are `ctdata.lifecycle.review`). A front door asks the reviewer:
in Airflow the `review` task is a human-in-the-loop approval."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ctdata import settings

if TYPE_CHECKING:
    from ctdata.lifecycle.review_request import ReviewRequest
    from ctdata.pipeline.run import DatasetRun

log = logging.getLogger(__name__)


def review(
    run: DatasetRun, prepared: dict[str, Any], validation: dict[str, Any] | None = None
) -> dict[str, Any] | ReviewRequest:
    """The step's result when no review is needed, else the request a reviewer must answer
    (`prepared` is the staged publishable table's summary, `validation` its suites' summary)."""
    from ctdata.lifecycle.review import ALREADY_PUBLIC, decision, review_need
    from ctdata.lifecycle.review_request import review_request

    if run.dry_run:
        log.info("Dry run: asking for OPM's review skipped; see the publish task's log.")
        return {"dry_run": True}
    agency, dataset, portal_id = run.agency, run.dataset, run.require_portal_id()
    view = run.portal.get_metadata(portal_id)
    need = review_need(agency.code, dataset, view, run.registry)
    if need.already_public:
        run.registry.record_decision(
            decision(agency.code, dataset, portal_id, approved=True, reviewer=ALREADY_PUBLIC)
        )
        log.info("Dataset %s was public with these columns already: no review.", portal_id)
        return {"review": "not needed", "portal_id": portal_id}
    if not need:
        log.info("No review needed: not a first publication and no column changed.")
        return {"review": "not needed", "portal_id": portal_id}
    frame = run.staging.read_frame(prepared["path"])
    link = f"{settings.current().portal_url}/d/{portal_id}"
    log.info("Waiting for an OPM reviewer's decision (%s).", "; ".join(need.reasons))
    return review_request(agency, dataset, link, need, frame, prepared, validation)


def decide(run: DatasetRun, *, approved: bool, reviewer: str, reason: str) -> dict[str, Any]:
    """Keep the reviewer's decision; a rejection raises ReviewRejected (nothing was sent)."""
    from ctdata.lifecycle.review import ReviewRejected, decision

    agency, dataset, portal_id = run.agency, run.dataset, run.portal_id
    run.registry.record_decision(
        decision(
            agency.code,
            dataset,
            portal_id,
            approved=approved,
            reviewer=reviewer,
            reason=reason,
            run_id=run.run_id,
        )  # fmt: skip
    )
    if not approved:
        raise ReviewRejected(
            f"{dataset.metadata.title} was rejected by {reviewer}: "
            f"{reason or 'no reason given'}. Nothing public was changed; dataset {portal_id} "
            "stays private. Fix the spec or data and rerun to ask again."
        )
    log.info("Approved by %s%s: publishing.", reviewer, f" ({reason})" if reason else "")
    return {"review": "approved", "reviewer": reviewer, "reason": reason, "portal_id": portal_id}
