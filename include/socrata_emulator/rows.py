"""Row writes: upsert, replace and single-row delete with Socrata's counting rules.

A request is validated and converted completely before the first SQL statement runs, and runs
in one transaction, so a bad value anywhere means nothing of the request is applied.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from socrata_emulator.coerce import BadValue, convert_column, convert_value, decode_row_id
from socrata_emulator.models import Dataset, bad_request

SYSTEM_KEYS = frozenset({":id", ":deleted", ":created_at", ":updated_at"})


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    by_sid: int = 0
    by_rowid: int = 0
    errors: int = 0

    def body(self) -> dict[str, int]:
        return {
            "Errors": self.errors,
            "Rows Deleted": self.deleted,
            "Rows Updated": self.updated,
            "By SID": self.by_sid,
            "Rows Created": self.created,
            "By RowIdentifier": self.by_rowid,
        }


def parse_csv_rows(text: str) -> list[dict[str, Any]]:
    """A CSV upsert body (header of field names); empty cells are nulls."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise bad_request("CSV body has no header row of field names")
    header = [h.strip() for h in header]
    return [{k: (v if v != "" else None) for k, v in zip(header, r, strict=False)} for r in reader]


def _is_deleted(row: dict[str, Any]) -> bool:
    flag = row.get(":deleted")
    return flag is True or (isinstance(flag, str) and flag.lower() == "true")


def _check_shape(ds: Dataset, rows: Any) -> set[str]:
    """Check the body is a list of objects with known field names; returns all keys used."""
    if not isinstance(rows, list):
        raise bad_request("The request body must be a JSON array of row objects")
    for i, r in enumerate(rows):
        if type(r) is not dict:
            raise bad_request(f"Row {i + 1} is not a JSON object keyed by field name")
    keys: set[str] = set().union(*rows) if rows else set()
    known = {c.fieldName for c in ds.columns} | SYSTEM_KEYS
    unknown = sorted(keys - known)
    if unknown:
        first = next(i for i, r in enumerate(rows) if unknown[0] in r)
        raise bad_request(
            f"Unknown field name '{unknown[0]}' in row {first + 1} for dataset {ds.id}; "
            f"valid field names are: {', '.join(c.fieldName for c in ds.columns)}"
        )
    return keys


def _columns_of(rows: list[dict[str, Any]], fields: list[str]) -> dict[str, list]:
    """Transpose rows into per-field value lists (a C-speed zip when all rows share keys)."""
    if rows and len({tuple(r) for r in rows}) == 1:
        return {
            k: list(v)
            for k, v in zip(rows[0], zip(*(r.values() for r in rows), strict=True), strict=True)
            if k in fields
        }
    return {f: [r.get(f) for r in rows] for f in fields}


def _convert(ds: Dataset, rows: list[dict[str, Any]], fields: list[str]) -> dict[str, list]:
    """Convert each field's values over all rows, naming column, value and row on a misfit."""
    out: dict[str, list] = {}
    for f, values in _columns_of(rows, fields).items():
        col = ds.column(f)
        assert col is not None
        try:
            out[f] = convert_column(col.dataTypeName, values)
        except BadValue as exc:
            i = getattr(exc, "index", 0)
            raise bad_request(
                f"Invalid value for column '{f}' ({col.dataTypeName}): value "
                f"'{getattr(exc, 'value', '')}' in row {i + 1} of the request ({exc}); "
                "nothing from this request was applied"
            ) from None
    return out


def _segments(rows: list[dict[str, Any]], kinds: list[str]) -> list[tuple[str, int, int]]:
    """Split rows into consecutive runs of the same operation and the same key set."""
    segs: list[tuple[str, int, int]] = []
    start = 0
    if len(set(kinds)) == 1 and len({tuple(r) for r in rows}) == 1:
        return [(kinds[0], 0, len(rows))]
    for i in range(1, len(rows) + 1):
        if (
            i == len(rows)
            or kinds[i] != kinds[start]
            or (kinds[i] == "upsert" and rows[i].keys() != rows[start].keys())
        ):
            segs.append((kinds[start], start, i))
            start = i
    return segs if rows else []


def write_rows(
    conn: sqlite3.Connection, ds: Dataset, rows: Any, *, replace: bool = False
) -> Counts:
    """Apply an upsert (or a replace) inside the caller's transaction."""
    if isinstance(rows, dict):  # a single row object is accepted like a one-row array
        rows = [rows]
    keys = _check_shape(ds, rows)
    counts = Counts()
    rid = ds.column(ds.rowIdentifier) if ds.rowIdentifier else None
    if replace and ":deleted" in keys:
        rows = [r for r in rows if not _is_deleted(r)]
    if ":deleted" not in keys and (":id" not in keys or rid is not None):
        kinds = ["upsert"] * len(rows)  # the bulk case: no per-row classification
        if rid is not None and any(r.get(rid.fieldName) is None for r in rows):
            i = next(i for i, r in enumerate(rows) if r.get(rid.fieldName) is None)
            raise bad_request(
                f"Row {i + 1} has no value for the row identifier column '{rid.fieldName}'"
            )
    else:
        kinds = _classify(rows, rid)
    fields = [c.fieldName for c in ds.columns if c.fieldName in keys]
    converted = _convert(ds, rows, fields)
    now = _now_iso()
    if replace:
        counts.deleted = conn.execute(f"DELETE FROM {ds.table}").rowcount
    present: set[Any] = set()
    if rid is not None:
        present = _existing(conn, ds, rid.sql(), converted.get(rid.fieldName, []))
    for kind, a, b in _segments(rows, kinds):
        seg_fields = [f for f in rows[a] if f in converted] if kind == "upsert" else []
        if kind == "upsert":
            _upsert_segment(conn, ds, rid, converted, seg_fields, a, b, now, counts, present)
        elif kind == "delete" and rid is not None:
            _delete_by_rowid(conn, ds, rid, converted[rid.fieldName][a:b], counts, present)
        elif kind == "delete":
            sids = [decode_row_id(r[":id"]) for r in rows[a:b]]
            for sid in sids:
                n = conn.execute(f"DELETE FROM {ds.table} WHERE _sid = ?", (sid,)).rowcount
                counts.deleted += n
                counts.by_sid += n
                counts.errors += 1 - n
        else:
            _update_by_sid(conn, ds, rows, converted, a, b, now, counts)
    return counts


def _classify(rows: list[dict[str, Any]], rid: Any) -> list[str]:
    """Per row: "delete", "sid" (update by :id) or "upsert"; checks ids are present."""
    kinds = []
    for i, r in enumerate(rows):
        if _is_deleted(r):
            kinds.append("delete")
        elif rid is None and ":id" in r:
            kinds.append("sid")
        else:
            kinds.append("upsert")
        if rid is not None and r.get(rid.fieldName) is None:
            raise bad_request(
                f"Row {i + 1} has no value for the row identifier column '{rid.fieldName}'"
            )
        if rid is None and kinds[-1] != "upsert" and decode_row_id(r.get(":id")) is None:
            raise bad_request(f"Row {i + 1}: ':id' must be a row id such as 'row-xxxx.xxxx'")
    return kinds


def _existing(conn: sqlite3.Connection, ds: Dataset, col: str, keys: list[Any]) -> set[Any]:
    found: set[Any] = set()
    unique = list({k for k in keys if k is not None})
    for i in range(0, len(unique), 30000):
        chunk = unique[i : i + 30000]
        marks = ",".join("?" * len(chunk))
        found.update(
            r[0]
            for r in conn.execute(f"SELECT {col} FROM {ds.table} WHERE {col} IN ({marks})", chunk)
        )
    return found


def _upsert_segment(conn, ds, rid, converted, fields, a, b, now, counts, present) -> None:
    cols = [ds.column(f).sql() for f in fields]  # type: ignore[union-attr]
    names = ", ".join([*cols, "_created_at", "_updated_at"])
    marks = ", ".join("?" * (len(cols) + 2))
    sql = f"INSERT INTO {ds.table} ({names}) VALUES ({marks})"
    n = b - a
    data = [converted[f][a:b] for f in fields]
    params = list(zip(*data, [now] * n, [now] * n, strict=True))
    if rid is not None:
        sets = [f"{c} = excluded.{c}" for c in cols if c != rid.sql()]
        sets.append("_updated_at = excluded._updated_at")
        sql += f" ON CONFLICT({rid.sql()}) DO UPDATE SET {', '.join(sets)}"
        for key in converted[rid.fieldName][a:b]:
            if key in present:
                counts.updated += 1
                counts.by_rowid += 1
            else:
                counts.created += 1
                present.add(key)
    else:
        counts.created += n
    conn.executemany(sql, params)


def _delete_by_rowid(conn, ds, rid, keys, counts, present) -> None:
    for key in keys:
        if key in present:
            conn.execute(f"DELETE FROM {ds.table} WHERE {rid.sql()} = ?", (key,))
            present.discard(key)
            counts.deleted += 1
            counts.by_rowid += 1


def _update_by_sid(conn, ds, rows, converted, a, b, now, counts) -> None:
    for i in range(a, b):
        fields = [f for f in rows[i] if f in converted]
        sid = decode_row_id(rows[i][":id"])
        sets = ", ".join([f"{ds.column(f).sql()} = ?" for f in fields] + ["_updated_at = ?"])  # type: ignore[union-attr]
        values = [converted[f][i] for f in fields]
        n = conn.execute(
            f"UPDATE {ds.table} SET {sets} WHERE _sid = ?", [*values, now, sid]
        ).rowcount
        counts.updated += n
        counts.by_sid += n
        counts.errors += 1 - n


def delete_one(conn: sqlite3.Connection, ds: Dataset, key: str) -> int:
    """`DELETE /resource/{id}/{row id}.json`: by row identifier value, else by `:id`."""
    rid = ds.column(ds.rowIdentifier) if ds.rowIdentifier else None
    if rid is not None:
        try:
            value = convert_value(rid.dataTypeName, key)
        except BadValue:
            value = key
        n = conn.execute(f"DELETE FROM {ds.table} WHERE {rid.sql()} = ?", (value,)).rowcount
        if n:
            return n
    sid = decode_row_id(key)
    if sid is None:
        return 0
    return conn.execute(f"DELETE FROM {ds.table} WHERE _sid = ?", (sid,)).rowcount


def _now_iso() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"
