"""SocrataHook reads the connection from AIRFLOW_CONN_SOCRATA_DEFAULT (JSON form)."""

from __future__ import annotations

import json

import pytest

from ctdata.errors import ConfigurationError


def _set(monkeypatch, conn_id: str, **fields) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


def test_hook_reads_default_connection(monkeypatch) -> None:
    from ctdata.airflow.hooks import SocrataHook
    from ctdata.portal.client import SocrataClient

    _set(
        monkeypatch, "socrata_default", conn_type="socrata", host="127.0.0.1", schema="http",
        port=8765, login="ocme@ct.gov", password="hook-secret", extra={"app_token": "hooktoken"},
    )  # fmt: skip
    hook = SocrataHook()
    conn = hook.get_portal_connection()
    assert conn.base_url == "http://127.0.0.1:8765"
    assert (conn.username, conn.password, conn.app_token) == (
        "ocme@ct.gov", "hook-secret", "hooktoken",
    )  # fmt: skip
    client = hook.get_client()
    assert isinstance(client, SocrataClient)
    assert client.soda.session.headers["X-App-token"] == "hooktoken"
    assert "hook-secret" not in repr(client)


def test_hook_refuses_plain_http_to_a_remote_portal(monkeypatch) -> None:
    from ctdata.airflow.hooks import SocrataHook

    _set(monkeypatch, "ct_portal", conn_type="socrata", host="data.ct.gov", schema="http")
    with pytest.raises(ConfigurationError, match="Refusing plain http"):
        SocrataHook(socrata_conn_id="ct_portal").get_portal_connection()


def test_hook_metadata_for_the_provider() -> None:
    from ctdata.airflow.hooks import SocrataHook

    assert SocrataHook.conn_type == "socrata" and SocrataHook.default_conn_name == "socrata_default"
    assert "host" in SocrataHook.get_ui_field_behaviour()["relabeling"]
