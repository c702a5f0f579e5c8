"""The portal a command talks to: `--portal URL` (credentials from SOCRATA_USERNAME,
SOCRATA_PASSWORD, SOCRATA_APP_TOKEN), else the Airflow connection the spec names (AIRFLOW_CONN_*,
secrets backends, the metadata database), else the local stand-in `ctdata local start` runs,
said on stderr. Without any of them the error says how to get one."""

from __future__ import annotations

import logging
import os
from types import SimpleNamespace
from typing import TYPE_CHECKING

from ctdata.errors import ConfigurationError

if TYPE_CHECKING:
    from ctdata.portal.client import SocrataClient
    from ctdata.portal.connection import PortalConnection

log = logging.getLogger(__name__)


def portal_connection(conn_id: str, portal_url: str | None = None) -> PortalConnection:
    from ctdata.cli.local_record import LocalRecord
    from ctdata.portal.connection import PortalConnection

    if portal_url:
        return PortalConnection.from_env(portal_url)
    from ctdata.airflow.hooks import SocrataHook

    try:
        return SocrataHook(conn_id).get_portal_connection()
    except Exception as exc:  # noqa: BLE001 - AirflowNotFoundException: look further
        if type(exc).__name__ != "AirflowNotFoundException":
            raise
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


def portal_client(conn_id: str, portal_url: str | None = None) -> SocrataClient:
    from ctdata.portal.client import SocrataClient

    return SocrataClient(portal_connection(conn_id, portal_url))
