"""PortalConnection: parsing, sodapy's domain form, secrets kept out of repr, http refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ctdata.errors import ConfigurationError
from ctdata.portal.connection import PortalConnection


def test_from_url_and_derived_addresses() -> None:
    conn = PortalConnection.from_url("http://127.0.0.1:8123", username="u@ct.gov", password="pw")
    assert (conn.scheme, conn.host, conn.port) == ("http", "127.0.0.1", 8123)
    assert conn.domain == "127.0.0.1:8123"
    assert conn.base_url == "http://127.0.0.1:8123"
    assert conn.dataset_url("abcd-1234") == "http://127.0.0.1:8123/d/abcd-1234"
    bare = PortalConnection.from_url("data.ct.gov")
    assert (bare.scheme, bare.domain, bare.port) == ("https", "data.ct.gov", None)


def test_repr_hides_password_and_token() -> None:
    conn = PortalConnection("data.ct.gov", username="u", password="hunter22", app_token="tok999")
    text = repr(conn) + str(conn)
    assert "hunter22" not in text and "tok999" not in text and "***" in text


def test_plain_http_only_for_loopback() -> None:
    with pytest.raises(ConfigurationError, match="Refusing plain http to data.ct.gov"):
        PortalConnection.from_url("http://data.ct.gov")
    for host in ("localhost", "127.0.0.1", "::1"):
        assert PortalConnection(host, scheme="http").scheme == "http"


def test_from_env(monkeypatch) -> None:
    monkeypatch.setenv("SOCRATA_USERNAME", "ocme@ct.gov")
    monkeypatch.setenv("SOCRATA_PASSWORD", "s3cret")
    monkeypatch.setenv("SOCRATA_APP_TOKEN", "apptok")
    conn = PortalConnection.from_env("https://data.ct.gov")
    assert (conn.username, conn.password, conn.app_token) == ("ocme@ct.gov", "s3cret", "apptok")


def test_from_airflow_connection_duck_typed() -> None:
    af = SimpleNamespace(
        host="data.ct.gov", schema="https", port=None, login="team@ct.gov", password="pw",
        extra_dejson={"app_token": "tok"},
    )  # fmt: skip
    conn = PortalConnection.from_airflow_connection(af)
    assert (conn.base_url, conn.username, conn.app_token) == (
        "https://data.ct.gov",
        "team@ct.gov",
        "tok",
    )
    af.schema = "http"
    with pytest.raises(ConfigurationError, match="loopback"):
        PortalConnection.from_airflow_connection(af)
    local = SimpleNamespace(host="127.0.0.1", schema="http", port=5000, login=None, password=None,
                            extra='{"app_token": "t2"}')  # fmt: skip
    assert PortalConnection.from_airflow_connection(local).domain == "127.0.0.1:5000"
    assert PortalConnection.from_airflow_connection(local).app_token == "t2"


def test_plain_http_to_a_named_host_only_when_the_connection_allows_it() -> None:
    stand_in = SimpleNamespace(host="portal", schema="http", port=8089, login=None, password=None,
                               extra_dejson={"allow_plain_http": True})  # fmt: skip
    assert PortalConnection.from_airflow_connection(stand_in).base_url == "http://portal:8089"
    stand_in.extra_dejson = {"allow_plain_http": "yes"}  # only a JSON true opts in
    with pytest.raises(ConfigurationError, match="allow_plain_http"):
        PortalConnection.from_airflow_connection(stand_in)
