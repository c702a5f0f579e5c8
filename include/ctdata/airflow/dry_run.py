"""Dry runs: a manual run of an agency DAG with the param `dry_run` extracts, validates and
suppresses as usual, then logs what publishing would change instead of sending it. The plan is
in the `publish` task's log; onboarding, review and metadata tasks say what they would do."""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import Param, get_current_context

from ctdata import settings
from ctdata.airflow.runtime import airflow_staging, portal_client

log = logging.getLogger(__name__)

DRY_RUN = "dry_run"


def dag_params() -> dict[str, Param]:
    return {
        DRY_RUN: Param(
            False,
            type="boolean",
            title="Dry run",
            description="Extract, validate and suppress, then log what publishing would change "
            "(rows, metadata, columns) in each publish task's log; nothing is sent to the portal.",
        )
    }


def is_dry_run(context: Any = None) -> bool:
    """The run's `dry_run` param (the trigger form's box, or `-c '{"dry_run": true}'`)."""
    context = context or get_current_context()
    if DRY_RUN in (context.get("params") or {}):
        return bool(context["params"][DRY_RUN])
    dag_run = context.get("dag_run")
    return bool((getattr(dag_run, "conf", None) or {}).get(DRY_RUN))


def log_plan(agency_code: str, slug: str, prepared: dict[str, Any]) -> dict[str, Any]:
    """The publish task of a dry run: the plan, in the log and as the task's result."""
    from ctdata.airflow.runtime import load_dataset
    from ctdata.pipeline import steps

    agency, dataset = load_dataset(agency_code, slug)
    with portal_client(agency.socrata_conn_id) as client:
        plan = steps.plan(agency, dataset, prepared, client, airflow_staging())
    log.info("Dry run: nothing was sent. Publishing would do:\n%s",
             plan.describe(settings.current().portal_url))  # fmt: skip
    return {"dry_run": True, **plan.as_dict()}


def log_onboarding(agency_code: str, slug: str) -> dict[str, Any]:
    from ctdata.airflow.runtime import load_dataset
    from ctdata.lifecycle.registry import resolve_portal_id

    _, dataset = load_dataset(agency_code, slug)
    portal_id = resolve_portal_id(agency_code, dataset)
    if portal_id is None:
        log.info("Dry run: the dataset is not on the portal yet; a real run would create it "
                 "(private) and record its id. Nothing was created.")  # fmt: skip
    else:
        log.info("Dry run: the dataset is %s on the portal.", portal_id)
    return {"portal_id": portal_id, "how": "dry run", "dry_run": True}


def log_skipped(what: str) -> dict[str, Any]:
    log.info("Dry run: %s skipped; see the publish task's log for the plan.", what)
    return {"dry_run": True}
