"""The run-log dataset on the portal: one row per dataset publication run (as DataSync keeps a
log dataset), so OPM can query the pipeline's history like any other dataset.

Rows hold ids, times, the status, row counts, bytes and the ledger's reason, which carries no
data value. Keyed by dataset and Airflow run, so writing a run's row again updates it rather
than adding a second one.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING, Any

from ctdata import settings
from ctdata.specs.models import AgencySpec, Contact, DatasetSpec

if TYPE_CHECKING:
    from ctdata.portal.client import SocrataClient

COLUMNS = [
    ("Run Key", "run_key", "text", "Dataset id and Airflow run id joined by '|' (unique)"),
    ("Dataset ID", "dataset_id", "text", "Four-by-four id (agency.slug if not yet created)"),
    ("Agency", "agency", "text", "Code of the publishing agency"),
    ("Airflow Run", "airflow_run_id", "text", "Id of the Airflow run that published it"),
    ("Started", "started", "calendar_date", "When the run's first step finished (UTC)"),
    ("Finished", "finished", "calendar_date", "When the run succeeded or failed (UTC)"),
    ("Status", "status", "text", "succeeded, failed or running"),
    ("Failed Step", "failed_step", "text", "The step that failed, if any"),
    ("Rows Created", "rows_created", "number", "Rows added to the dataset"),
    ("Rows Changed", "rows_changed", "number", "Rows whose values changed"),
    ("Rows Deleted", "rows_deleted", "number", "Rows removed from the dataset"),
    ("Bytes Sent", "bytes_sent", "number", "Bytes of row data sent to the portal"),
    ("Message", "message", "text", "Why a run failed, in words; never a value from the data"),
]


def run_log_agency() -> AgencySpec:
    """OPM publishes the run log, as it publishes the usage datasets."""
    return _agency(settings.current().run_log_dataset_id)


@cache
def _agency(portal_id: str) -> AgencySpec:
    dataset = DatasetSpec.model_validate(
        {
            "slug": "pipeline_runs",
            "portal_id": portal_id,
            "metadata": {
                "title": "Open Data Pipeline Publication Runs",
                "description": (
                    "One row per run of the automated publication pipeline for each dataset: "
                    "when it ran, whether it succeeded, how many rows it created, changed and "
                    "deleted, the bytes sent and, for a failure, why. No values from the data."
                ),
                "category": "Government",
                "tags": ["open data", "pipeline", "runs", "log"],
                "row_label": "Dataset publication run",
                "source_link": "https://portal.ct.gov/opm",
                "geographic_unit": "Not applicable",
                "temporal_coverage": "since the first automated run",
                "attribution": "Office of Policy and Management",
                "contact_email": "opm.data@ct.gov",
                "update_frequency": "Daily",
            },
            "source": {"kind": "csv", "path": "generated"},
            "columns": [
                {"name": n, "field": f, "type": t, "description": d} for n, f, t, d in COLUMNS
            ],
            "row_identifier": "run_key",
            "publish": {"method": "upsert"},
            "public": False,
        }
    )
    return AgencySpec(
        code="opm_pipeline",
        name="Office of Policy and Management",
        data_officer=Contact(name="OPM Agency Data Officer", email="opm.data@ct.gov"),
        owner="opm-data-team",
        datasets=[dataset],
    )


def run_log_row(run: dict[str, Any]) -> dict[str, Any]:
    """The portal row of one ledger run (JSON as the portal takes it)."""
    return {
        "run_key": f"{run['dataset_id']}|{run['run_id']}",
        "dataset_id": run["dataset_id"],
        "agency": run["agency"],
        "airflow_run_id": run["run_id"],
        "started": _floating(run.get("started")),
        "finished": _floating(run.get("finished")),
        "status": run["status"],
        "failed_step": run.get("failed_step"),
        "rows_created": run.get("created"),
        "rows_changed": run.get("updated"),
        "rows_deleted": run.get("deleted"),
        "bytes_sent": run.get("bytes_sent"),
        "message": run.get("reason"),
    }


def append_run(client: SocrataClient, run: dict[str, Any]) -> dict[str, Any]:
    """Write the run's row (an upsert on its key) and make sure the dataset is published."""
    from ctdata.lifecycle.publication import sync_metadata

    agency = run_log_agency()
    dataset = agency.datasets[0]
    portal_id = str(dataset.portal_id)
    result = client.upsert(portal_id, [run_log_row(run)])
    if client.get_metadata(portal_id).get("publicationStage") != "published":
        sync_metadata(agency, dataset, portal_id, client)
    return result


def _floating(value: dt.datetime | None) -> str | None:
    """A Socrata floating timestamp, in UTC."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000")
