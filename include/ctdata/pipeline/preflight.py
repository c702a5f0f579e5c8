"""The first step of every agency run: what the whole agency needs, checked before any extract,
so a run that cannot make progress fails at its start naming each missing piece with its fix
(and alerts, as any failed task does) instead of failing late or waiting unseen.

It checks the portal connection, the state store (a new one gets its tables) and the staging
root. Each dataset's own needs (metadata meeting the standard, suites, aggregation outputs,
source connection, pseudonym key) are logged here and enforced at the start of that dataset's
`extract` (`ctdata.preflight.require_dataset_ready`), so one dataset's problem does not stop
the others. The Airflow side (pool, reviewers, DAG folder) is made or checked by
`ctdata.airflow.deployment` and `ctdata doctor`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ctdata import preflight as checks
from ctdata import settings

if TYPE_CHECKING:
    from ctdata.pipeline.run import AgencyRun

log = logging.getLogger(__name__)


def preflight(run: AgencyRun) -> dict[str, Any]:
    """Raise PreflightFailed when the agency's run cannot make progress; else which of its
    datasets are ready (the others fail at the start of their extract, saying why)."""
    config, agency = settings.current(), run.agency
    portal = {agency.socrata_conn_id: checks.NeededConnection([agency.code], portal=True)}
    found = [
        *checks.connection_findings(portal, run.connections),
        *checks.state_store_findings(run.store.url, upgrade=True),
        *checks.staging_findings(run.staging.root, run.staging.open_path),
    ]
    per_dataset = {
        d.slug: checks.dataset_findings(
            agency, d, config.expectations_dir, get_connection=run.connections
        )
        for d in agency.datasets
        if d.retire is None
    }
    for slug, findings in per_dataset.items():
        for finding in findings:
            log.warning("%s will fail at its start: %s", slug, finding)
    checks.require(f"{agency.dag_id} cannot run", found)
    ready = sorted(slug for slug, findings in per_dataset.items() if not findings)
    log.info(
        "Preflight: portal connection %r, state store, staging root %s: ready. %s of %s "
        "dataset(s) ready.",
        agency.socrata_conn_id, run.staging.root, len(ready), len(per_dataset),
    )  # fmt: skip
    return {
        "ready": ready,
        "not_ready": {s: [str(x) for x in f] for s, f in per_dataset.items() if f},
    }
