"""The state store's database: SQLite under var/ by default, PostgreSQL in production.

The publishing state (fingerprints, publish runs), the dataset registry, the monitoring ledger
and the usage metrics all keep their tables here, so one URL (`CTDATA_STATE_URL`) configures
them all and a deployment has one database to back up. A process holds one engine per URL
(`engine`): every store object of a task, the view's page requests and the command line share
its connection pool instead of opening their own.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url

from ctdata import settings

_engines: dict[tuple[int, str], Engine] = {}
_tables_made: dict[Engine, set[int]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Store:
    """The state store a run works with (the configured one by default)."""

    url: str = field(default_factory=lambda: settings.current().state_url)

    @property
    def engine(self) -> Engine:
        return engine(self.url)

    def __repr__(self) -> str:
        return f"Store({redacted(self.url)!r})"


def engine(url: str) -> Engine:
    """This process's engine for the store at `url`, created on first use. Keyed by process id
    too: a forked worker must not share its parent's pooled connections."""
    key = (os.getpid(), url)
    with _lock:
        found = _engines.get(key)
        if found is None:
            found = _engines[key] = create_store_engine(url)
        return found


def release(url: str) -> None:
    """Close the process's connections to the store at `url` and forget its engine (for
    short-lived stores, e.g. a scratch database; the next `engine(url)` makes a new one)."""
    with _lock:
        found = _engines.pop((os.getpid(), url), None)
    if found is not None:
        _tables_made.pop(found, None)
        found.dispose()


def ensure_tables(metadata: MetaData, bound: Engine) -> None:
    """Create the tables of `metadata` that the store lacks, once per engine and process."""
    with _lock:
        if id(metadata) in _tables_made.get(bound, ()):
            return
    metadata.create_all(bound)
    with _lock:
        _tables_made.setdefault(bound, set()).add(id(metadata))


def create_store_engine(url: str) -> Engine:
    """A new engine for the store (use `engine` to share the process's). SQLite gets its
    folder created, WAL (readers never block the writer) and a busy timeout, since a DAG's
    tasks and the CLI may write at the same time."""
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    made = create_engine(url)
    if is_sqlite:
        event.listen(made, "connect", _sqlite_pragmas)
    return made


def redacted(url: str) -> str:
    """The URL as it may appear in logs and messages: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
