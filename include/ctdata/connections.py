"""Connections to agency source systems, looked up by id: the one interface through which the
library reaches credentials, so that it never imports Airflow.

A front door fills the lookup in: the Airflow glue with Airflow's connections (metadata DB,
secrets backends, `AIRFLOW_CONN_*` variables), the command line with the `AIRFLOW_CONN_<ID>`
environment variables alone (same names and forms, so a spec means the same everywhere).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from ctdata.errors import ConfigurationError

# SQLAlchemy dialects for Airflow's connection types.
_SQLALCHEMY_SCHEMES = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg"}


@dataclass(frozen=True)
class SourceConnection:
    """What a source needs to reach a system; the repr never shows the password."""

    conn_id: str
    conn_type: str
    host: str = ""
    schema: str = ""
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    port: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # An HTTP API's transport from the front door (auth kind -> ctdata.sources.http's
    # HttpTransport), e.g. Airflow's HttpHook; None: the library's own requests transport.
    http: Callable[[str], Any] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_airflow(cls, conn: Any) -> SourceConnection:
        """From an Airflow Connection (duck-typed, so the library needs no Airflow import)."""
        extra = getattr(conn, "extra_dejson", None) or {}
        return cls(
            conn_id=str(conn.conn_id),
            conn_type=str(conn.conn_type or ""),
            host=str(conn.host or ""),
            schema=str(conn.schema or ""),
            login=conn.login or None,
            password=conn.password or None,
            port=int(conn.port) if conn.port else None,
            extra=dict(extra),
        )

    def sqlalchemy_url(self) -> str:
        """The SQLAlchemy URL (extra `sqlalchemy_url` wins; sqlite keeps its path in host)."""
        if self.extra.get("sqlalchemy_url"):
            return str(self.extra["sqlalchemy_url"])
        scheme = _SQLALCHEMY_SCHEMES.get(self.conn_type, self.conn_type)
        if scheme == "sqlite":
            return f"sqlite:///{self.host}"
        auth = ""
        if self.login:
            auth = quote(self.login, safe="")
            auth += f":{quote(self.password, safe='')}" if self.password else ""
            auth += "@"
        port = f":{self.port}" if self.port else ""
        return f"{scheme}://{auth}{self.host}{port}/{self.schema}"

    def base_url(self) -> str:
        """An HTTP API's base URL: `schema` (http or https), host and port."""
        if "://" in self.host:
            return self.host.rstrip("/")
        scheme = self.schema or "http"  # as Airflow's HTTP hook reads it
        port = f":{self.port}" if self.port else ""
        return f"{scheme}://{self.host}{port}"


ConnectionLookup = Callable[[str], SourceConnection]


def environment_connection(conn_id: str) -> SourceConnection:
    """A connection from `AIRFLOW_CONN_<ID>` (URI or JSON form), as Airflow would read it."""
    name = f"AIRFLOW_CONN_{conn_id.upper()}"
    raw = os.environ.get(name)
    if not raw:
        raise ConfigurationError(
            f"connection {conn_id!r} is not defined: set {name} (a URI such as "
            "postgresql://user:pass@host/db, or Airflow's JSON form)"
        )
    if raw.lstrip().startswith("{"):
        try:
            data = json.loads(raw)
        except ValueError:
            raise ConfigurationError(f"{name} is neither a URI nor valid JSON") from None
        return _from_json(conn_id, data)
    return _from_uri(conn_id, raw)


def _from_json(conn_id: str, data: dict[str, Any]) -> SourceConnection:
    extra = data.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra)
    return SourceConnection(
        conn_id=conn_id,
        conn_type=str(data.get("conn_type", "")),
        host=str(data.get("host") or ""),
        schema=str(data.get("schema") or ""),
        login=data.get("login"),
        password=data.get("password"),
        port=int(data["port"]) if data.get("port") else None,
        extra=dict(extra),
    )


def _from_uri(conn_id: str, uri: str) -> SourceConnection:
    parts = urlsplit(uri)
    conn_type = parts.scheme.replace("-", "_")
    path = unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path)
    extra = dict(parse_qsl(parts.query))
    if conn_type in ("http", "https"):  # Airflow: an http(s) URI names the API's base URL
        return SourceConnection(
            conn_id, "http", unquote(parts.hostname or ""), conn_type,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None, parts.port, extra,
        )  # fmt: skip
    host = unquote(parts.hostname or "")
    if conn_type == "sqlite":  # sqlite:///abs/path
        host, path = host or "/" + path, ""
    return SourceConnection(
        conn_id, conn_type, host, path,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None, parts.port, extra,
    )  # fmt: skip
