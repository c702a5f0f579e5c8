"""Dry runs: a manual run of an agency DAG with the param `dry_run` extracts, validates and
suppresses as usual, then logs what publishing would change instead of sending it. The plan is
in the `publish` task's log; onboarding, review and metadata tasks say what they would do
(the steps read it from the run: `DatasetRun.dry_run`)."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, get_current_context

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
