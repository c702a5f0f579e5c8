"""The state and metrics store's database: SQLite under var/ by default, PostgreSQL in production.

Both the publishing state (fingerprints, run ledger) and the usage metrics keep their tables
here, so one URL (`CTDATA_STATE_URL`) configures both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url


def create_store_engine(url: str) -> Engine:
    """An engine for the store. SQLite gets its folder created, WAL (readers never block the
    writer) and a busy timeout, since a DAG's tasks and the CLI may write at the same time."""
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def redacted(url: str) -> str:
    """The URL as it may appear in logs and messages: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
