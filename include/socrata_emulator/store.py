"""SQLite persistence: one table per dataset (typed columns), metadata as JSON.

All access goes through one connection guarded by one lock, and each write request is one
transaction (BEGIN IMMEDIATE ... COMMIT), so a failed request leaves nothing behind and the
state survives restarts (WAL mode).
"""

from __future__ import annotations

import copy
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from socrata_emulator import geo
from socrata_emulator.coerce import DATA_TYPES, SQL_AFFINITY
from socrata_emulator.files import normalized_attachments
from socrata_emulator.models import (
    FIELD_NAME,
    Column,
    Dataset,
    bad_request,
    field_name_from,
    not_found,
)
from socrata_emulator.replica import ReadReplica
from socrata_emulator.rows import Counts, delete_one, write_rows
from socrata_emulator.soql import compile_query

METADATA_FIELDS = ("name", "description", "category", "attribution", "attributionLink", "licenseId")


class Store:
    """The portal's state: datasets in memory (write-through), rows in SQLite."""

    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.path = data_dir / "portal.sqlite3"
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA case_sensitive_like=ON")
        self.conn.execute("PRAGMA cache_size=-65536")
        geo.register(self.conn)  # within_box, intersects, ... in SoQL
        self.lock = threading.RLock()
        self.replica = ReadReplica()  # `--stale-reads` sets how far SODA reads lag writes
        self.conn.execute("CREATE TABLE IF NOT EXISTS _datasets (id TEXT PRIMARY KEY, body TEXT)")
        self.conn.execute("CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value INTEGER)")
        import msgspec

        self._json = msgspec.json
        self.datasets: dict[str, Dataset] = {}
        for ds_id, body in self.conn.execute("SELECT id, body FROM _datasets"):
            self.datasets[ds_id] = Dataset.from_json(msgspec.json.decode(body))

    def close(self) -> None:
        with self.lock:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back on any exception."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    # ---- datasets ---------------------------------------------------------------------------

    def get(self, ds_id: str) -> Dataset:
        ds = self.datasets.get(ds_id)
        if ds is None:
            raise not_found(f"view {ds_id}")
        return ds

    def _save(self, conn: sqlite3.Connection, ds: Dataset) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO _datasets (id, body) VALUES (?, ?)",
            (ds.id, self._json.encode(ds.to_json()).decode()),
        )

    def _next_column_id(self, conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT value FROM _meta WHERE key = 'column_id'").fetchone()
        value = (row[0] if row else 100000) + 1
        conn.execute("INSERT OR REPLACE INTO _meta VALUES ('column_id', ?)", (value,))
        return value

    def _new_id(self) -> str:
        alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
        while True:
            s = "".join(random.choices(alphabet, k=8))
            ds_id = f"{s[:4]}-{s[4:]}"
            if ds_id not in self.datasets:
                return ds_id

    def create(self, body: dict[str, Any], owner: str, ds_id: str | None = None) -> Dataset:
        """`POST /api/views.json`: a private, unpublished dataset owned by `owner`."""
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
            raise bad_request("A dataset needs a non-empty 'name'")
        now = int(time.time())
        with self.tx() as conn:
            ds = Dataset(id=ds_id or self._new_id(), name=body["name"], owner=owner)
            ds.createdAt = ds.rowsUpdatedAt = ds.viewLastModified = now
            conn.execute(
                f"CREATE TABLE {ds.table} (_sid INTEGER PRIMARY KEY AUTOINCREMENT, "
                "_created_at TEXT, _updated_at TEXT)"
            )
            for spec in body.get("columns") or []:
                self._add_column(conn, ds, spec)
            self._apply_metadata(conn, ds, body)
            self._save(conn, ds)
            self.datasets[ds.id] = ds
        return ds

    @contextmanager
    def _mutate(self, ds: Dataset) -> Iterator[tuple[sqlite3.Connection, Dataset]]:
        """Copy-on-write metadata change of the *current* dataset, saved in one transaction.

        The copy is taken under the lock so concurrent requests never save stale metadata.
        """
        with self.tx() as conn:
            new = copy.deepcopy(self.get(ds.id))
            yield conn, new
            new.viewLastModified = int(time.time())
            self._save(conn, new)
            self.datasets[ds.id] = new

    def update(self, ds: Dataset, body: dict[str, Any]) -> Dataset:
        """`PUT /api/views/{id}.json`: partial metadata update; unknown fields ignored."""
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object of view fields")
        with self._mutate(ds) as (conn, new):
            self._apply_metadata(conn, new, body)
        return new

    def _apply_metadata(self, conn: sqlite3.Connection, ds: Dataset, body: dict[str, Any]) -> None:
        for key in METADATA_FIELDS:
            if key in body:
                value = body[key]
                if value is not None and not isinstance(value, str):
                    raise bad_request(f"Field '{key}' must be a string")
                setattr(ds, key, value if value is not None or key != "name" else ds.name)
        if "tags" in body:
            tags = body["tags"] or []
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise bad_request("Field 'tags' must be a list of strings")
            ds.tags = list(tags)
        specs = body.get("columns")
        for spec in specs if isinstance(specs, list) else []:
            col = ds.column(spec.get("fieldName") or "") if isinstance(spec, dict) else None
            if col is not None:
                col.name = spec.get("name", col.name) or col.name
                col.description = spec.get("description", col.description) or ""
        meta = body.get("metadata")
        if isinstance(meta, dict):
            if isinstance(meta.get("custom_fields"), dict):
                ds.custom_fields = copy.deepcopy(meta["custom_fields"])
            if "rowIdentifier" in meta:
                self._set_row_identifier(conn, ds, meta["rowIdentifier"])
            if isinstance(meta.get("attachments"), list):
                ds.attachments = normalized_attachments(meta["attachments"])
            modelled = ("custom_fields", "rowIdentifier", "attachments")
            ds.extra_metadata.update({k: v for k, v in meta.items() if k not in modelled})

    def _set_row_identifier(self, conn: sqlite3.Connection, ds: Dataset, ref: Any) -> None:
        col = None
        if ref not in (None, "", "0", 0):  # "0" is how the portal spells "none"
            col = ds.column(str(ref))
            if col is None and str(ref).isdigit():
                col = ds.column_by_id(int(ref))
            if col is None:
                raise bad_request(f"rowIdentifier '{ref}' is not a column of dataset {ds.id}")
        index = f'"u_{ds.id.replace("-", "_")}"'
        if ds.rowIdentifier and (col is None or col.fieldName != ds.rowIdentifier):
            conn.execute(f"DROP INDEX IF EXISTS {index}")
        if col is not None and col.fieldName != ds.rowIdentifier:
            dup = conn.execute(
                f"SELECT {col.sql()} FROM {ds.table} WHERE {col.sql()} IS NOT NULL GROUP BY 1 HAVING COUNT(*) > 1 LIMIT 1"
            ).fetchone()
            nulls = conn.execute(
                f"SELECT COUNT(*) FROM {ds.table} WHERE {col.sql()} IS NULL"
            ).fetchone()[0]
            if nulls:
                raise bad_request(
                    f"Cannot make '{col.fieldName}' the row identifier: {nulls} row(s) have no value"
                )
            if dup:
                raise bad_request(
                    f"Cannot make '{col.fieldName}' the row identifier: value {dup[0]!r} repeats"
                )
            conn.execute(f"CREATE UNIQUE INDEX {index} ON {ds.table} ({col.sql()})")
        ds.rowIdentifier, ds.rowIdentifierRef = (col.fieldName, ref) if col else (None, None)

    def _add_column(self, conn: sqlite3.Connection, ds: Dataset, spec: Any) -> Column:
        if not isinstance(spec, dict) or not (spec.get("name") or spec.get("fieldName")):
            raise bad_request("Each column needs a 'name' (and optionally fieldName, dataTypeName)")
        field = spec.get("fieldName") or field_name_from(spec["name"])
        if not isinstance(field, str) or not FIELD_NAME.match(field):
            raise bad_request(
                f"Column fieldName '{field}' is invalid: use lower-case letters, digits, '_'"
            )
        if ds.column(field):
            raise bad_request(f"Column '{field}' already exists in dataset {ds.id}")
        dtype = spec.get("dataTypeName") or "text"
        if dtype not in DATA_TYPES:
            raise bad_request(
                f"Column '{field}': dataTypeName '{dtype}' is not one of {', '.join(DATA_TYPES)}"
            )
        col = Column(
            id=self._next_column_id(conn),
            fieldName=field,
            name=spec.get("name") or field,
            dataTypeName=dtype,
            description=spec.get("description") or "",
            position=max((c.position for c in ds.columns), default=0) + 1,
        )
        conn.execute(f"ALTER TABLE {ds.table} ADD COLUMN {col.sql()} {SQL_AFFINITY[dtype]}")
        ds.columns.append(col)
        return col

    def add_column(self, ds: Dataset, spec: Any) -> Column:
        with self._mutate(ds) as (conn, new):
            col = self._add_column(conn, new, spec)
        return col

    def update_column(self, ds: Dataset, cid: int, spec: Any) -> Column:
        if not isinstance(spec, dict):
            raise bad_request("The request body must be a JSON object of column fields")
        with self._mutate(ds) as (_conn, new):
            col = new.column_by_id(cid)
            if col is None:
                raise not_found(f"column {cid} of view {ds.id}")
            col.name = spec.get("name") or col.name
            if "description" in spec:
                col.description = spec["description"] or ""
        return col

    def delete_column(self, ds: Dataset, cid: int) -> Column:
        with self._mutate(ds) as (conn, new):
            col = new.column_by_id(cid)
            if col is None:
                raise not_found(f"column {cid} of view {ds.id}")
            if new.rowIdentifier == col.fieldName:
                self._set_row_identifier(conn, new, None)
            conn.execute(f"ALTER TABLE {new.table} DROP COLUMN {col.sql()}")
            new.columns.remove(col)
        return col

    def set_flags(
        self,
        ds: Dataset,
        *,
        public: bool | None = None,
        published: bool | None = None,
        owner: str | None = None,
        viewers: list[str] | None = None,
    ) -> Dataset:
        with self._mutate(ds) as (_conn, new):
            if viewers is not None:
                new.viewers = list(viewers)
            if public is not None:
                new.public = public
            if published is not None:
                new.published = published
            if owner is not None:
                new.owner = owner
        return new

    def delete(self, ds: Dataset) -> None:
        with self.tx() as conn:
            conn.execute(f"DROP TABLE IF EXISTS {ds.table}")
            conn.execute("DELETE FROM _datasets WHERE id = ?", (ds.id,))
            self.datasets.pop(ds.id, None)

    # ---- rows -------------------------------------------------------------------------------

    def write(self, ds: Dataset, rows: Any, *, replace: bool = False) -> Counts:
        with self.tx() as conn, self.replica.writing(conn, ds):
            counts = write_rows(conn, ds, rows, replace=replace)
            self._touch_rows(conn, ds)
        return counts

    def delete_row(self, ds: Dataset, key: str) -> int:
        with self.tx() as conn, self.replica.writing(conn, ds):
            n = delete_one(conn, ds, key)
            if n:
                self._touch_rows(conn, ds)
        return n

    def _touch_rows(self, conn: sqlite3.Connection, ds: Dataset) -> None:
        """Bump rowsUpdatedAt on the current metadata (never re-save a stale copy)."""
        current = self.datasets.get(ds.id, ds)
        current.rowsUpdatedAt = int(time.time())
        self._save(conn, current)

    def query(self, ds: Dataset, params: dict[str, str]) -> tuple[list[Any], list[tuple]]:
        """Run a SoQL read on the current rows; returns (output columns, rows as tuples)."""
        return self.read(ds, params, lagged=False)[:2]

    def read(self, ds: Dataset, params: dict[str, str], *, lagged: bool = True) -> tuple:
        """A SODA read: (columns, rows, out of date); `lagged` reads come from the replica
        while it is behind the latest writes (`--stale-reads`, see replica.py)."""
        q = compile_query(ds, params)
        with self.lock:
            return (q.columns, *self.replica.run(self.conn, ds, q.sql, q.params, lagged=lagged))

    def row_count(self, ds: Dataset) -> int:
        with self.lock:
            return self.conn.execute(f"SELECT COUNT(*) FROM {ds.table}").fetchone()[0]
