"""The first task of every agency DAG, and the stand-in task of a dataset whose spec entry is
invalid: a run that cannot make progress fails at its start, naming each missing piece with its
fix (and alerts through the DAG's failure notifier), instead of failing late or waiting unseen.

`preflight` checks what the whole agency needs from a worker's side: the portal connection, the
state store (a new one gets its tables), the staging root. Each dataset's own needs (metadata
meeting the standard, suites, aggregation outputs, source connection, pseudonym key) are
logged here and enforced at the start of that dataset's extract, so one dataset's problem does
not stop the others. The Airflow side (pool, reviewers, DAG folder) is made or checked by
`ctdata.airflow.deployment` and `ctdata doctor`.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import BaseOperator

from ctdata import settings

log = logging.getLogger(__name__)


def _connection(conn_id: str) -> Any:
    from airflow.sdk import BaseHook

    return BaseHook.get_connection(conn_id)


def run_preflight(agency_code: str) -> dict[str, Any]:
    from airflow.sdk import ObjectStoragePath

    from ctdata import preflight
    from ctdata.specs.loader import read_agency
    from ctdata.store_upgrade import state_store_findings

    config = settings.current()
    read = read_agency(config.agencies_dir / f"{agency_code}.yaml")
    agency = read.agency
    portal = {agency.socrata_conn_id: preflight.NeededConnection([agency.code], portal=True)}
    found = [
        *preflight.connection_findings(portal, _connection),
        *state_store_findings(config.state_url, create_missing_tables=True),
        *preflight.staging_findings(config.staging_root, ObjectStoragePath),
    ]
    per_dataset = {
        d.slug: preflight.dataset_findings(
            agency, d, config.expectations_dir, get_connection=_connection
        )
        for d in agency.datasets
        if d.retire is None
    }
    for slug, findings in per_dataset.items():
        for finding in findings:
            log.warning("%s will fail at its start: %s", slug, finding)
    for invalid in read.invalid:
        log.warning("%s is not in this run: its spec entry is invalid: %s", invalid.slug,
                    invalid.error)  # fmt: skip
    preflight.require(f"{agency.dag_id} cannot run", found)
    log.info(
        "Preflight: portal connection %r, state store, staging root %s: ready. %s of %s "
        "dataset(s) ready.",
        agency.socrata_conn_id,
        config.staging_root,
        sum(not f for f in per_dataset.values()),
        len(per_dataset),
    )
    return {"ready": sorted(s for s, f in per_dataset.items() if not f),
            "not_ready": {s: [str(x) for x in f] for s, f in per_dataset.items() if f},
            "invalid": [d.slug for d in read.invalid]}  # fmt: skip


class PreflightOperator(BaseOperator):
    """`preflight`: upstream of every dataset of the agency's DAG."""

    ui_color = "#fde2e4"

    def __init__(self, *, agency_code: str, **kwargs: Any) -> None:
        super().__init__(task_id="preflight", **kwargs)
        self.agency_code = agency_code

    def execute(self, context: Any) -> Any:
        return run_preflight(self.agency_code)


class InvalidDatasetOperator(BaseOperator):
    """`<slug>.spec_error`: a dataset whose spec entry does not validate fails at once with the
    reason (read again when the task runs: the spec may have been fixed since the parse)."""

    ui_color = "#f8b4b4"

    def __init__(self, *, agency_code: str, slug: str, **kwargs: Any) -> None:
        super().__init__(task_id=f"{slug}.spec_error", **kwargs)
        self.agency_code, self.slug = agency_code, slug

    def execute(self, context: Any) -> Any:
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


def preflight_tasks(agency_code: str, invalid: list[Any]) -> PreflightOperator:
    """The preflight task, and one failing task per invalid dataset; returns the preflight."""
    for dataset in invalid:
        InvalidDatasetOperator(agency_code=agency_code, slug=dataset.slug)
    return PreflightOperator(agency_code=agency_code)
