"""The Socrata hook: reads an Airflow connection and hands out retrying portal clients.

Connection fields: host = portal domain, schema = https (http only for loopback hosts),
port, login/password, extra = {"app_token": "..."}. It may come from the metadata DB or from
the usual AIRFLOW_CONN_SOCRATA_DEFAULT environment variable (JSON form).
"""

from __future__ import annotations

from typing import Any

try:  # Airflow 3 (task SDK)
    from airflow.sdk.bases.hook import BaseHook
except ImportError:  # pragma: no cover - Airflow 2 layout
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef]

from ctdata.portal.client import SocrataClient
from ctdata.portal.connection import PortalConnection


class SocrataHook(BaseHook):
    """Airflow hook for a Socrata portal (data.ct.gov or the local stand-in)."""

    conn_name_attr = "socrata_conn_id"
    default_conn_name = "socrata_default"
    conn_type = "socrata"
    hook_name = "Socrata"

    def __init__(self, socrata_conn_id: str = default_conn_name, **client_kwargs: Any) -> None:
        super().__init__()
        self.socrata_conn_id = socrata_conn_id
        self.client_kwargs = client_kwargs

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": [],
            "relabeling": {
                "host": "Portal domain",
                "schema": "Scheme (https; http only for 127.0.0.1)",
                "login": "Username (a team or agency account)",
                "password": "Password",
            },
            "placeholders": {
                "host": "data.ct.gov",
                "schema": "https",
                "extra": '{"app_token": "..."}',
            },
        }

    def get_portal_connection(self) -> PortalConnection:
        """The connection as a PortalConnection (refuses plain http to non-loopback hosts)."""
        return PortalConnection.from_airflow_connection(self.get_connection(self.socrata_conn_id))

    def get_conn(self) -> SocrataClient:
        return self.get_client()

    def get_client(self) -> SocrataClient:
        """A SocrataClient with the retry policy; the caller closes it (or uses `with`)."""
        return SocrataClient(self.get_portal_connection(), **self.client_kwargs)

    def test_connection(self) -> tuple[bool, str]:
        """Used by the UI's Test button: fetch one catalog page."""
        try:
            with self.get_client() as client:
                next(iter(client.catalog(page_size=1)), None)
        except Exception as exc:  # noqa: BLE001 - reported to the user, not raised
            return False, str(exc)
        return True, "Connected to the portal."
