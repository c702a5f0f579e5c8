"""What the Airflow front door gives the library: staging on Airflow's object storage, source
connections and portal clients from Airflow's connections."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctdata.connections import SourceConnection
    from ctdata.portal.client import SocrataClient
    from ctdata.specs import AgencySpec, DatasetSpec
    from ctdata.staging import Staging


def airflow_staging() -> Staging:
    """The staging area, reached through ObjectStoragePath (object storage credentials come
    from Airflow connections)."""
    from airflow.sdk import ObjectStoragePath

    from ctdata.staging import Staging

    return Staging(open_path=ObjectStoragePath)


def airflow_connection(conn_id: str) -> SourceConnection:
    """A source connection from Airflow (metadata DB, secrets backends, AIRFLOW_CONN_*); an
    HTTP API's requests go through the HTTP provider's hook (ctdata.airflow.http)."""
    import dataclasses

    from airflow.sdk import BaseHook

    from ctdata.airflow.http import hook_transport
    from ctdata.connections import SourceConnection

    connection = SourceConnection.from_airflow(BaseHook.get_connection(conn_id))
    return dataclasses.replace(connection, http=hook_transport(conn_id))


def portal_client(conn_id: str) -> SocrataClient:
    """A retrying portal client for the Socrata connection `conn_id`."""
    from ctdata.airflow.hooks import SocrataHook

    return SocrataHook(conn_id).get_client()


def load_dataset(agency_code: str, slug: str) -> tuple[AgencySpec, DatasetSpec]:
    """A task's agency and dataset, read from this worker's agencies folder when it runs."""
    from ctdata import settings
    from ctdata.specs import load_agency

    path = settings.current().agencies_dir / f"{agency_code}.yaml"
    agency = load_agency(path, skip_invalid_datasets=True)  # another dataset's typo is not ours
    return agency, agency.dataset(slug)
