"""How the command line reaches sources and portals, without the Airflow glue: a connection id
means what it means to the DAGs. `AIRFLOW_CONN_<ID>` variables are read directly; a connection
kept only in an Airflow installation's metadata database or secrets backend is asked of
Airflow itself, when it is installed beside the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctdata import settings
from ctdata.connections import SourceConnection, environment_connection
from ctdata.errors import ConfigurationError

if TYPE_CHECKING:
    from ctdata.portal.client import SocrataClient


def source_connection(conn_id: str) -> SourceConnection:
    """The connection `conn_id`: from its environment variable, else from Airflow's store."""
    try:
        return environment_connection(conn_id)
    except ConfigurationError as missing:
        try:
            from airflow.sdk import BaseHook
        except ImportError:
            raise missing from None
        try:
            found = BaseHook.get_connection(conn_id)
        except Exception:  # noqa: BLE001 - AirflowNotFoundException and its relatives
            raise missing from None
        return SourceConnection.from_airflow(found)


def portal_client(conn_id: str | None, portal_url: str | None = None) -> SocrataClient:
    """A retrying portal client: for `portal_url` with SOCRATA_USERNAME, SOCRATA_PASSWORD and
    SOCRATA_APP_TOKEN when given, else for the Socrata connection `conn_id` (read as the DAGs'
    Socrata hook reads it)."""
    from ctdata.portal.client import SocrataClient
    from ctdata.portal.connection import PortalConnection

    if portal_url or conn_id is None:
        return SocrataClient(PortalConnection.from_env(portal_url or settings.current().portal_url))
    connection = PortalConnection.from_airflow_connection(source_connection(conn_id))
    return SocrataClient(connection)
