"""One function per source kind; each returns a DataFrame or raises SourceError saying why.

Sources named by connection id are reached through a `ConnectionLookup` the front door gives
(Airflow's connections in a DAG, `AIRFLOW_CONN_*` variables on the command line). Connection
details never appear in messages with their password: SQLAlchemy URLs are rendered with the
password hidden, and connections are named by id only.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctdata.connections import ConnectionLookup, environment_connection
from ctdata.errors import ConfigurationError, SourceError, SourceUnavailableError
from ctdata.specs.loader import resolve_path
from ctdata.specs.models import CsvSource, DatasetSpec, HttpSource, SqlSource

if TYPE_CHECKING:
    import pandas as pd

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


HTTP_TIMEOUT_SECONDS = 120


def extract(
    dataset: DatasetSpec,
    agencies_dir: Path | None = None,
    connections: ConnectionLookup = environment_connection,
) -> pd.DataFrame:
    """Read the dataset's source as declared in its spec."""
    source = dataset.source
    label = f"dataset {dataset.slug!r} ({source.kind} source)"
    if isinstance(source, SqlSource):
        return _read_sql(source, label, connections)
    if isinstance(source, CsvSource):
        return _read_csv(source, label, agencies_dir)
    return _read_http(source, label, connections)


def expand_env(text: str, label: str) -> str:
    """Replace ${VAR} with the environment's value; a missing variable is an error, not ''."""
    missing = [name for name in _ENV_REFERENCE.findall(text) if name not in os.environ]
    if missing:
        raise ConfigurationError(
            f"{label}: environment variable(s) {', '.join(missing)} not set; set them where "
            "Airflow's workers run"
        )
    return _ENV_REFERENCE.sub(lambda m: os.environ[m.group(1)], text)


def _read_sql(source: SqlSource, label: str, connections: ConnectionLookup) -> pd.DataFrame:
    import pandas as pd
    import sqlalchemy as sa

    if source.url:
        url = expand_env(source.url, label)
    else:
        url = connections(str(source.conn_id)).sqlalchemy_url()
    safe_url = sa.engine.make_url(url).render_as_string(hide_password=True)
    engine = sa.create_engine(url)
    try:
        try:
            connection = engine.connect()
        except sa.exc.SQLAlchemyError as exc:  # the database is down or unreachable
            raise SourceUnavailableError(
                f"{label}: cannot connect to {safe_url}: {_reason(exc)}"
            ) from None
        with connection:
            return pd.read_sql_query(sa.text(source.query), connection, params=source.params)
    except sa.exc.DBAPIError as exc:
        if exc.connection_invalidated:  # the connection dropped mid-query
            raise SourceUnavailableError(
                f"{label}: lost the connection to {safe_url}: {_reason(exc)}"
            ) from None
        raise SourceError(f"{label}: query failed on {safe_url}: {_reason(exc)}") from None
    except sa.exc.SQLAlchemyError as exc:
        raise SourceError(f"{label}: query failed on {safe_url}: {_reason(exc)}") from None
    finally:
        engine.dispose()


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig) if orig else type(exc).__name__


def _read_csv(source: CsvSource, label: str, agencies_dir: Path | None) -> pd.DataFrame:
    import pandas as pd

    path = resolve_path(expand_env(source.path, label), agencies_dir)
    if not path.exists():
        raise SourceUnavailableError(
            f"{label}: file {path} does not exist (yet); check 'source.path' in the spec or "
            "whether the file drop has arrived"
        )
    try:
        return pd.read_csv(path, encoding=source.encoding, sep=source.delimiter)
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise SourceError(f"{label}: cannot parse {path}: {exc}") from None


def _read_http(source: HttpSource, label: str, connections: ConnectionLookup) -> pd.DataFrame:
    import pandas as pd
    import requests

    connection = connections(source.conn_id)
    url = connection.base_url() + "/" + source.endpoint.lstrip("/")
    auth = (connection.login, connection.password or "") if connection.login else None
    headers = {k: str(v) for k, v in connection.extra.items() if isinstance(v, str | int)}
    params = dict(source.params)
    try:
        response = requests.request(
            source.method,
            url,
            params=params if source.method == "GET" else None,
            json=params if source.method == "POST" else None,
            auth=auth,
            headers=headers,
            timeout=HTTP_TIMEOUT_SECONDS,
        )
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise SourceUnavailableError(f"{label}: {type(exc).__name__} calling the API") from None
    status = response.status_code
    if status >= 400:
        error = SourceUnavailableError if status >= 500 or status == 429 else SourceError
        raise error(f"{label}: the API answered HTTP {status} {response.reason}")
    if source.format == "csv":
        return pd.read_csv(io.StringIO(response.text))
    try:
        payload = response.json()
    except ValueError:
        raise SourceError(f"{label}: the API's answer is not JSON") from None
    return pd.DataFrame.from_records(_records(payload, source.records_path, label))


def _records(payload: Any, records_path: str | None, label: str) -> list[dict[str, Any]]:
    for key in records_path.split(".") if records_path else []:
        if not isinstance(payload, dict) or key not in payload:
            raise SourceError(f"{label}: answer has no {key!r} along records_path {records_path!r}")
        payload = payload[key]
    if not isinstance(payload, list):
        raise SourceError(f"{label}: expected a list of records, got {type(payload).__name__}")
    return payload
