"""Reads that lag writes, as Socrata's read replicas do (`ctdata emulator --stale-reads SECONDS`).

After a row write, SODA reads of that dataset (rows and counts) are answered from a copy of the
rows as they were before the write, with `X-SODA2-Data-Out-Of-Date: true`, until the dataset
has had no write for SECONDS; then reads see every write and carry `false` again. A burst of
writes therefore keeps the copy behind until the burst is over, the way a replica that is busy
catching up would. A column added or removed brings the copy up to date at once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from socrata_emulator.models import Dataset, bad_request


class ReadReplica:
    """Per dataset, a copy of the rows from before the latest writes and when it catches up."""

    def __init__(self, lag_seconds: float = 0.0) -> None:
        self.lag_seconds = lag_seconds
        self._fresh_at: dict[str, float] = {}  # dataset id -> when the copy catches up
        self._schema: dict[str, list[str]] = {}  # dataset id -> the copy's columns

    @staticmethod
    def _table(ds: Dataset) -> str:
        return '"x_' + ds.id.replace("-", "_") + '"'

    @contextmanager
    def writing(self, conn: sqlite3.Connection, ds: Dataset) -> Iterator[None]:
        """Around a row write (inside its transaction): keep the rows readers still see, and
        start the lag once the write is done."""
        if self.lag_seconds > 0 and self._fresh_at.get(ds.id, 0.0) <= time.monotonic():
            # (while the copy is behind it stays at the state before the first write)
            conn.execute(f"DROP TABLE IF EXISTS {self._table(ds)}")
            conn.execute(f"CREATE TABLE {self._table(ds)} AS SELECT * FROM {ds.table}")
            self._schema[ds.id] = [c.fieldName for c in ds.columns]
        yield
        if self.lag_seconds > 0:
            self._fresh_at[ds.id] = time.monotonic() + self.lag_seconds

    def run(
        self, conn: sqlite3.Connection, ds: Dataset, sql: str, params: list[Any], *, lagged: bool
    ) -> tuple[list[tuple], bool]:
        """Run a read on the copy while it is behind (lagged reads), else on the dataset;
        returns the rows and whether they are out of date."""
        copy = self._table_for_read(conn, ds) if lagged else None
        try:
            if copy is not None:
                stale = sql.replace(f"FROM {ds.table}", f"FROM {copy}", 1)
                return conn.execute(stale, params).fetchall(), True
            return conn.execute(sql, params).fetchall(), False
        except sqlite3.Error as exc:
            raise bad_request(f"Query failed: {exc}", "query.compiler.malformed") from None

    def _table_for_read(self, conn: sqlite3.Connection, ds: Dataset) -> str | None:
        fresh_at = self._fresh_at.get(ds.id)
        if fresh_at is None:
            return None
        if fresh_at > time.monotonic() and self._schema.get(ds.id) == [
            c.fieldName for c in ds.columns
        ]:
            return self._table(ds)
        self._forget(conn, ds)  # caught up, or the columns changed
        return None

    def _forget(self, conn: sqlite3.Connection, ds: Dataset) -> None:
        if self._fresh_at.pop(ds.id, None) is not None:
            conn.execute(f"DROP TABLE IF EXISTS {self._table(ds)}")
