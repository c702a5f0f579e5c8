"""The retire step: the state's retirement process for a dataset whose spec has a `retire:`
block, as it stands on the run's date (`ctdata.retirement.process`): notice, register row,
then private."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ctdata.pipeline.run import DatasetRun

log = logging.getLogger(__name__)


def retire(run: DatasetRun) -> dict[str, Any]:
    """Carry the retirement on to where it stands on the run's date; a dataset the pipeline
    created retires by its recorded id."""
    from ctdata.retirement.process import advance_retirement
    from ctdata.specs.registers import load_registers_config

    registers = load_registers_config()
    dataset = run.on_portal
    result = advance_retirement(
        run.agency,
        dataset,
        run.portal,
        today=run.run_date,
        registers=registers,
        register_client=run.portals(registers.socrata_conn_id),
        staging=run.staging,
        run_id=run.run_id,
    )
    _log_retirement(run, result)
    return result


def _log_retirement(run: DatasetRun, result: dict[str, Any]) -> None:
    slug, portal_id, today = run.slug, run.portal_id, run.run_date
    stage = result["stage"]
    if stage == "scheduled":
        log.info(
            "Retirement of %s (%s): the notice goes up on %s; nothing to do on %s.",
            slug, portal_id, result["notice_date"], today,
        )  # fmt: skip
        return
    register = result["register"] or {}
    log.info(
        "Retirement of %s (%s) on %s: %s (notice %s, removal %s); metadata changed: %s; "
        "retired-assets register: %s created, %s updated, %s unchanged; %s.",
        slug,
        portal_id,
        today,
        stage,
        result["notice_date"],
        result["removal_date"],
        ", ".join(result["changed_fields"]) or "nothing",
        register.get("created"),
        register.get("updated"),
        register.get("unchanged"),
        "made private now" if result["made_private"] else "visibility unchanged",
    )
