"""How the command line reaches sources and portals, without the Airflow glue: a connection id
means what it means to the DAGs. `AIRFLOW_CONN_<ID>` variables are read directly; a connection
kept only in an Airflow installation's metadata database or secrets backend is asked of
Airflow itself, when it is installed beside the command line. A portal connection defined
nowhere falls back to the local stand-in `ctdata local start` runs."""

from __future__ import annotations

import logging
import os
from types import SimpleNamespace
from typing import TYPE_CHECKING

from ctdata import settings
from ctdata.connections import SourceConnection, environment_connection
from ctdata.errors import ConfigurationError

if TYPE_CHECKING:
    from ctdata.portal.client import SocrataClient
    from ctdata.portal.connection import PortalConnection

log = logging.getLogger(__name__)


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
    Socrata hook reads it), else for the local stand-in `ctdata local start` runs (said on
    stderr). Without any of them the error says how to get one."""
    from ctdata.portal.client import SocrataClient

    return SocrataClient(portal_connection(conn_id, portal_url))


def portal_connection(conn_id: str | None, portal_url: str | None = None) -> PortalConnection:
    """The portal a command talks to (see `portal_client`)."""
    from ctdata.portal.connection import PortalConnection

    if portal_url or conn_id is None:
        return PortalConnection.from_env(portal_url or settings.current().portal_url)
    try:
        found = source_connection(conn_id)
    except ConfigurationError:
        if os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}"):  # defined, but not readable
            raise
        return _local_stand_in(conn_id)
    return PortalConnection.from_airflow_connection(found)


def _local_stand_in(conn_id: str) -> PortalConnection:
    from ctdata.cli.local_record import LocalRecord
    from ctdata.portal.connection import PortalConnection

    record = LocalRecord.load_live()
    if record is None:
        raise ConfigurationError(
            f"the portal connection {conn_id!r} is not defined: set "
            f'AIRFLOW_CONN_{conn_id.upper()} (see README, "Pointing it at data.ct.gov"), pass '
            "--portal URL, or start the local stand-in with `ctdata local start`"
        )
    log.warning("connection %r is not defined: using the local portal stand-in at %s "
                "(`ctdata local start`)", conn_id, record.portal_url)  # fmt: skip
    os.environ["CTDATA_PORTAL_URL"] = record.portal_url  # links in what the command prints
    return PortalConnection.from_airflow_connection(SimpleNamespace(**record.portal_connection()))
