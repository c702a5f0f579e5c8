"""One reader per source kind, each a generator of batches (DataFrames, `batch_rows` rows for SQL
and CSV), dlt style: the extract step stages them one by one (`batches`); `extract` gathers them
into one frame for callers that want the table whole. Every error is a SourceError
saying why (SourceUnavailableError when retrying later can help).

Sources named by connection id are reached through a `ConnectionLookup` the front door gives
(Airflow's connections in a DAG, `AIRFLOW_CONN_*` variables on the command line); an HTTP API
is called through the transport the connection carries (Airflow's HttpHook in a DAG, see
ctdata.sources.http). Connection details never appear in messages with their password:
SQLAlchemy URLs are rendered with the password hidden, and connections are named by id only.
A reader that fails part-way raises: nothing it read is staged, so nothing half-read is
published.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ctdata import settings
from ctdata.connections import ConnectionLookup, environment_connection
from ctdata.errors import ConfigurationError, SourceError, SourceUnavailableError
from ctdata.sources.geo import add_geometry
from ctdata.sources.values import Locate, check_batch
from ctdata.specs.loader import resolve_path
from ctdata.specs.models import (
    ArcGisSource,
    CsvSource,
    DatasetSpec,
    GeoJsonSource,
    HttpSource,
    ShapefileSource,
    SqlSource,
)

if TYPE_CHECKING:
    import pandas as pd

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def extract(
    dataset: DatasetSpec,
    agencies_dir: Path | None = None,
    connections: ConnectionLookup = environment_connection,
) -> pd.DataFrame:
    """Read the dataset's source as declared in its spec, as one frame."""
    import pandas as pd

    frames = list(batches(dataset, agencies_dir, connections))
    if not frames:
        return pd.DataFrame()
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def batches(
    dataset: DatasetSpec,
    agencies_dir: Path | None = None,
    connections: ConnectionLookup = environment_connection,
) -> Iterator[pd.DataFrame]:
    """The dataset's source, batch by batch (pages of an API, chunks of a query or file), each
    checked as it arrives: a value that cannot be its column's type fails the read at once,
    naming the column, the row and (for a table published as it is) the value."""
    first_row = 1
    locate = _ROW_PLACES.get(dataset.source.kind, _of_source)
    for frame in _batches(dataset, agencies_dir, connections):
        check_batch(frame, dataset, first_row, locate)
        first_row += len(frame)
        yield frame


def _of_source(row: int) -> str:
    return "of the source"


_ROW_PLACES: dict[str, Locate] = {
    "csv": lambda row: f"of the file (line {row + 1}, after the header)",
    "sql": lambda row: "of the query's result",
    "http": lambda row: "of the API's records",
}


def _batches(
    dataset: DatasetSpec, agencies_dir: Path | None, connections: ConnectionLookup
) -> Iterator[pd.DataFrame]:
    source = dataset.source
    label = f"dataset {dataset.slug!r} ({source.kind} source)"
    if isinstance(source, SqlSource):
        read = _read_sql(source, label, connections)
    elif isinstance(source, CsvSource):
        read = _read_csv(source, label, agencies_dir)
    elif isinstance(source, HttpSource):
        read = _read_http(source, label, connections)
    else:
        yield from _read_features(source, label, agencies_dir, connections)
        return
    geometry = source.geometry
    for frame in read:
        yield frame if geometry is None else add_geometry(frame, geometry, label)


def _read_features(
    source: GeoJsonSource | ShapefileSource | ArcGisSource,
    label: str,
    agencies_dir: Path | None,
    connections: ConnectionLookup,
) -> Iterator[pd.DataFrame]:
    from ctdata.sources import arcgis, geofiles
    from ctdata.sources.http import transport_for

    if isinstance(source, ArcGisSource):
        connection = connections(source.conn_id)
        yield from arcgis.read_layer(source, transport_for(connection, "basic"), label)
        return
    path = resolve_path(expand_env(source.path, label), agencies_dir)
    if isinstance(source, GeoJsonSource):
        yield from geofiles.read_geojson(source, path, label)
    else:
        yield from geofiles.read_shapefile(source, path, label)


def expand_env(text: str, label: str) -> str:
    """Replace ${VAR} with the environment's value; a missing variable is an error, not ''."""
    missing = [name for name in _ENV_REFERENCE.findall(text) if name not in os.environ]
    if missing:
        raise ConfigurationError(
            f"{label}: environment variable(s) {', '.join(missing)} not set; set them where "
            "Airflow's workers run"
        )
    return _ENV_REFERENCE.sub(lambda m: os.environ[m.group(1)], text)


def _read_sql(
    source: SqlSource, label: str, connections: ConnectionLookup
) -> Iterator[pd.DataFrame]:
    import pandas as pd
    import sqlalchemy as sa

    if source.url:
        url = expand_env(source.url, label)
    else:
        url = connections(str(source.conn_id)).sqlalchemy_url()
    safe_url = sa.engine.make_url(url).render_as_string(hide_password=True)
    _require_sqlite_file(url, label, source)
    engine = sa.create_engine(url)
    try:
        try:
            connection = engine.connect()
        except sa.exc.SQLAlchemyError as exc:  # the database is down or unreachable
            raise SourceUnavailableError(
                f"{label}: cannot connect to {safe_url}: {_reason(exc)}"
            ) from None
        with connection.execution_options(stream_results=True):  # a server-side cursor
            yield from pd.read_sql_query(
                sa.text(source.query),
                connection,
                params=source.params,
                chunksize=settings.current().batch_rows,
            )
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


def _require_sqlite_file(url: str, label: str, source: SqlSource) -> None:
    """SQLite creates a missing database file, empty, on connecting: a mistyped path would
    then read as "no such table". Refuse it first, naming the path."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return
    if database.startswith("file:") or Path(database).is_file():
        return
    where = f"connection {source.conn_id!r} (its host)" if source.conn_id else "'source.url'"
    raise SourceError(
        f"{label}: the SQLite database {database} does not exist; check {where} in the spec "
        "or the connection (nothing was created)"
    )


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig) if orig else type(exc).__name__


def _read_csv(source: CsvSource, label: str, agencies_dir: Path | None) -> Iterator[pd.DataFrame]:
    import pandas as pd

    path = resolve_path(expand_env(source.path, label), agencies_dir)
    if not path.exists():
        raise SourceUnavailableError(
            f"{label}: file {path} does not exist (yet); check 'source.path' in the spec or "
            "whether the file drop has arrived"
        )
    try:
        reader = pd.read_csv(
            path,
            encoding=source.encoding,
            sep=source.delimiter,
            chunksize=settings.current().batch_rows,
        )
        with reader:
            yield from reader
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise SourceError(f"{label}: cannot parse {path}: {exc}") from None


def _read_http(
    source: HttpSource, label: str, connections: ConnectionLookup
) -> Iterator[pd.DataFrame]:
    from ctdata.sources.http import transport_for
    from ctdata.sources.paging import read_pages

    connection = connections(source.conn_id)
    transport = transport_for(connection, source.auth)
    yield from read_pages(source, transport, connection.base_url(), label)
