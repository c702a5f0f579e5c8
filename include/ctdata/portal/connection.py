"""Where the portal is and how to authenticate: built from a URL, the environment or Airflow."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ctdata.errors import ConfigurationError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True for names and addresses that never leave the machine (plain HTTP is safe there)."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class PortalConnection:
    """A portal address plus credentials. The repr never shows the password or token."""

    host: str
    scheme: str = "https"
    port: int | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    # Plain http to a named host, for a stand-in on a private container network (the compose
    # demo); set from the connection's extra {"allow_plain_http": true}, never by default.
    allow_plain_http: bool = False

    def __post_init__(self) -> None:
        if not self.host:
            raise ConfigurationError(
                "Portal connection has no host: give e.g. https://data.ct.gov."
            )
        if self.scheme not in ("https", "http"):
            raise ConfigurationError(
                f"Portal connection scheme {self.scheme!r} is not supported: use https "
                "(or http for a portal on this machine)."
            )
        if self.scheme == "http" and not (is_loopback(self.host) or self.allow_plain_http):
            raise ConfigurationError(
                f"Refusing plain http to {self.host}: credentials would travel unencrypted. "
                "Use https (http is allowed only for loopback hosts such as 127.0.0.1, or for "
                'a stand-in on a private network whose connection extra sets "allow_plain_http": true).'
            )

    def __repr__(self) -> str:
        secret = "***" if self.password else None
        token = "***" if self.app_token else None
        return (
            f"PortalConnection(host={self.host!r}, scheme={self.scheme!r}, port={self.port!r}, "
            f"username={self.username!r}, password={secret!r}, app_token={token!r})"
        )

    @property
    def domain(self) -> str:
        """`host[:port]`, the form sodapy expects as its domain."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port else host

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    def dataset_url(self, dataset_id: str) -> str:
        """The dataset's landing page (what a person opens; counted as a page view)."""
        return f"{self.base_url}/d/{dataset_id}"

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        app_token: str | None = None,
    ) -> PortalConnection:
        """Parse `http(s)://host[:port]`; a bare host means https."""
        if "://" not in url:
            url = f"https://{url}"
        parts = urlsplit(url)
        if not parts.hostname:
            raise ConfigurationError(
                f"Portal URL {url!r} has no host: give e.g. https://data.ct.gov."
            )
        try:
            port = parts.port
        except ValueError as exc:
            raise ConfigurationError(f"Portal URL {url!r} has an invalid port: {exc}.") from None
        return cls(
            host=parts.hostname,
            scheme=parts.scheme.lower(),
            port=port,
            username=username or parts.username or None,
            password=password or parts.password or None,
            app_token=app_token or None,
        )

    @classmethod
    def from_env(cls, url: str) -> PortalConnection:
        """Credentials from SOCRATA_USERNAME, SOCRATA_PASSWORD and SOCRATA_APP_TOKEN."""
        return cls.from_url(
            url,
            username=os.environ.get("SOCRATA_USERNAME") or None,
            password=os.environ.get("SOCRATA_PASSWORD") or None,
            app_token=os.environ.get("SOCRATA_APP_TOKEN") or None,
        )

    @classmethod
    def from_airflow_connection(cls, conn: Any) -> PortalConnection:
        """From an Airflow Connection (duck-typed): host, schema=https|http, port, login, extra."""
        host = str(getattr(conn, "host", "") or "")
        scheme = str(getattr(conn, "schema", "") or "https").lower()
        if "://" in host:  # people paste a URL into the host field
            parsed = urlsplit(host)
            scheme, host = parsed.scheme or scheme, parsed.hostname or ""
        extra = _extra_of(conn)
        port = getattr(conn, "port", None)
        return cls(
            host=host,
            scheme=scheme,
            port=int(port) if port else None,
            username=getattr(conn, "login", None) or None,
            password=getattr(conn, "password", None) or None,
            app_token=extra.get("app_token") or None,
            allow_plain_http=extra.get("allow_plain_http") is True,
        )


def portal_connection(url: str | None, conn_id: str) -> PortalConnection:
    """What the command line connects with: `url` (credentials from SOCRATA_*), else the
    connection `conn_id` as the DAGs read it (AIRFLOW_CONN_<ID>)."""
    if url:
        return PortalConnection.from_env(url)
    from ctdata.connections import environment_connection

    return PortalConnection.from_airflow_connection(environment_connection(conn_id))


def _extra_of(conn: Any) -> dict[str, Any]:
    extra = getattr(conn, "extra_dejson", None)
    if isinstance(extra, dict):
        return extra
    raw = getattr(conn, "extra", None)
    if isinstance(raw, dict):  # ctdata.connections.SourceConnection
        return raw
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise ConfigurationError(
            'The Socrata connection\'s extra field is not JSON: use {"app_token": "..."}.'
        ) from None
    return value if isinstance(value, dict) else {}
