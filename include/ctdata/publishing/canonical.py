"""Typing, serialization and fingerprints of rows, vectorized with Arrow.

One canonical form serves three purposes: it is what is serialized and sent, what is hashed
(fingerprints combine per-column hashes, computed without building any JSON, so unchanged rows
cost only a vectorized pass) and what a portal read-back is converted to, so a row read back
from the portal hashes exactly like the source row that produced it.

Canonical Arrow types: number -> float64 (sent as a JSON number), checkbox -> bool,
calendar_date -> timestamp[ms] (sent as the floating timestamp "YYYY-MM-DDTHH:MM:SS.mmm"),
point -> GeoJSON text (sent raw), everything else -> string (empty strings are null, as the
portal stores them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ctdata.portal.schema import PortalColumn

NUMBER_TYPES = frozenset({"number", "money", "percent", "double"})
DATE_TYPES = frozenset({"calendar_date", "date", "floating_timestamp"})
BOOL_TYPES = frozenset({"checkbox", "boolean"})
RAW_JSON_TYPES = frozenset({"point"})

_NUMBER_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_DATE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d",
)
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_CONTROL_RE = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]"
_ESCAPE_RE = '["\\\\\\x00-\\x1f]'

_WKT_POINT = re.compile(r"^\s*POINT\s*\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\)\s*$", re.I)


@dataclass
class TypeProblems:
    """Values that do not fit their column's portal type: counts and a few examples."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)

    def add(self, column: str, rows: np.ndarray, values: list[Any]) -> None:
        self.counts[column] = self.counts.get(column, 0) + len(rows)
        seen = self.examples.setdefault(column, [])
        for row, value in zip(rows.tolist(), values, strict=False):
            if len(seen) >= 3:
                break
            seen.append((int(row), value))

    def __bool__(self) -> bool:
        return bool(self.counts)


def canonical_type(data_type: str) -> str:
    if data_type in NUMBER_TYPES:
        return "number"
    if data_type in DATE_TYPES:
        return "date"
    if data_type in BOOL_TYPES:
        return "bool"
    if data_type in RAW_JSON_TYPES:
        return "point"
    return "text"


def canonicalize(
    array: pa.Array | pa.ChunkedArray,
    column: PortalColumn,
    *,
    first_row: int = 0,
    problems: TypeProblems | None = None,
) -> pa.Array:
    """Convert one source column to its canonical Arrow form; record values that do not fit."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    kind = canonical_type(column.data_type)
    convert = {"number": _to_number, "date": _to_date, "bool": _to_bool, "point": _to_point}
    out, bad = convert.get(kind, _to_text)(array)
    if bad is not None and problems is not None:
        idx = np.flatnonzero(np.asarray(bad.to_numpy(zero_copy_only=False), dtype=bool))
        if len(idx):
            values = array.take(pa.array(idx[:3])).to_pylist()
            problems.add(column.field_name, idx + first_row, values)
    return out


def _bad(array: pa.Array, converted: pa.Array) -> pa.Array:
    """Rows where the source had a value but the conversion produced null."""
    return pc.and_(pc.is_valid(array), pc.is_null(converted))


def _to_text(array: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    t = array.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        text = array.cast(pa.string())
    elif pa.types.is_boolean(t):
        text = pc.if_else(array, "true", "false")
    elif pa.types.is_timestamp(t) or pa.types.is_date(t):
        text = _format_ts(_to_date(array)[0])
    elif pa.types.is_floating(t):
        text = pc.cast(pc.if_else(pc.is_nan(array), None, array), pa.string())
    elif pa.types.is_integer(t) or pa.types.is_decimal(t):
        text = pc.cast(array, pa.string())
    elif pa.types.is_null(t):
        text = pa.nulls(len(array), pa.string())
    else:
        text = pa.array(
            [None if v is None else json.dumps(v, default=str) for v in array.to_pylist()],
            pa.string(),
        )
    return _empty_to_null(text), None


def _empty_to_null(text: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(text, ""), None, text)


def _to_number(array: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    t = array.type
    if pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t):
        num = pc.cast(array, pa.float64())
        bad = pc.and_(pc.is_valid(num), pc.is_inf(num))
        num = pc.if_else(pc.or_(pc.is_nan(num), pc.is_inf(num)), None, num)
        return num, bad
    if pa.types.is_null(t):
        return pa.nulls(len(array), pa.float64()), None
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        return pa.nulls(len(array), pa.float64()), pc.is_valid(array)
    text = _empty_to_null(pc.utf8_trim_whitespace(array.cast(pa.string())))
    ok = pc.match_substring_regex(text, _NUMBER_RE)
    num = pc.cast(pc.if_else(ok, text, None), pa.float64())
    return num, _bad(text, num)


def _to_bool(array: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    t = array.type
    if pa.types.is_boolean(t):
        return array, None
    if pa.types.is_null(t):
        return pa.nulls(len(array), pa.bool_()), None
    if pa.types.is_integer(t):
        ok = pc.is_in(array, pa.array([0, 1], t))
        out = pc.if_else(ok, pc.equal(array, 1), None)
        return out, _bad(array, out)
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        return pa.nulls(len(array), pa.bool_()), pc.is_valid(array)
    text = _empty_to_null(pc.utf8_lower(pc.utf8_trim_whitespace(array.cast(pa.string()))))
    is_true = pc.is_in(text, pa.array(_TRUE))
    is_false = pc.is_in(text, pa.array(_FALSE))
    out = pc.if_else(is_true, True, pc.if_else(is_false, False, None))
    return out, _bad(text, out)


def _to_date(array: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    t = array.type
    if pa.types.is_null(t):
        return pa.nulls(len(array), pa.timestamp("ms")), None
    if pa.types.is_timestamp(t):
        if t.tz is not None:  # floating timestamps: keep the wall-clock time of the zone given
            array = pc.local_timestamp(array)
        return pc.cast(array, pa.timestamp("ms"), safe=False), None
    if pa.types.is_date(t):
        return pc.cast(pc.cast(array, pa.date32()), pa.timestamp("ms")), None
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        return pa.nulls(len(array), pa.timestamp("ms")), pc.is_valid(array)
    text = _empty_to_null(pc.utf8_trim_whitespace(array.cast(pa.string())))
    # Fractional seconds ("...:00.123") are parsed apart: strptime reads whole seconds only.
    frac = pc.extract_regex(text, r"^(?P<head>.*\d:\d\d)\.(?P<ms>\d{1,9})$")
    has_frac = pc.is_valid(frac)
    head = pc.if_else(has_frac, pc.struct_field(frac, "head"), text)
    millis = pc.if_else(
        has_frac,
        pc.cast(pc.utf8_slice_codeunits(pc.utf8_rpad(pc.struct_field(frac, "ms"), 3, "0"), 0, 3),
                pa.int64()),
        0,
    )  # fmt: skip
    out = pa.nulls(len(text), pa.timestamp("ms"))
    for fmt in _DATE_FORMATS:
        todo = pc.and_(pc.is_valid(text), pc.is_null(out))
        if not pc.any(todo).as_py():
            break
        parsed = pc.strptime(head, format=fmt, unit="ms", error_is_null=True)
        out = pc.if_else(pc.is_null(out), parsed, out)
    if pc.any(pc.not_equal(millis, 0)).as_py():
        ms = pc.cast(pc.cast(out, pa.int64()), pa.int64())
        out = pc.cast(pc.add(ms, millis), pa.timestamp("ms"))
    return out, _bad(text, out)


def _format_ts(ts: pa.Array) -> pa.Array:
    return pc.strftime(ts, format="%Y-%m-%dT%H:%M:%S")  # ms unit prints "SS.mmm"


def _to_point(array: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    out: list[str | None] = []
    bad: list[bool] = []
    for value in array.to_pylist():
        point = _point_json(value)
        out.append(point)
        bad.append(value not in (None, "") and point is None)
    return pa.array(out, pa.string()), pa.array(bad, pa.bool_())


def _point_json(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        match = _WKT_POINT.match(value)
        if match:
            lon, lat = float(match.group(1)), float(match.group(2))
            return json.dumps({"type": "Point", "coordinates": [lon, lat]}, separators=(",", ":"))
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, dict) and value.get("type") == "Point":
        try:
            lon, lat = (float(v) for v in value["coordinates"])
        except (KeyError, TypeError, ValueError):
            return None
        return json.dumps({"type": "Point", "coordinates": [lon, lat]}, separators=(",", ":"))
    return None


# -- serialization -----------------------------------------------------------------------------


def json_fragment(array: pa.Array, column: PortalColumn) -> pa.Array:
    """The JSON text of each canonical value (null where the value is null)."""
    kind = canonical_type(column.data_type)
    if kind == "number":
        return pc.cast(array, pa.string())
    if kind == "bool":
        return pc.if_else(array, "true", "false")
    if kind == "point":
        return array
    if kind == "date":
        return pc.binary_join_element_wise('"', _format_ts(array), '"', "")
    return json_string(array)


def json_string(text: pa.Array) -> pa.Array:
    """Quote and escape strings as JSON, vectorized (rare control characters via json.dumps)."""
    if not pc.any(pc.match_substring_regex(text, _ESCAPE_RE)).as_py():
        return pc.binary_join_element_wise('"', text, '"', "")
    esc = pc.replace_substring(text, "\\", "\\\\")
    esc = pc.replace_substring(esc, '"', '\\"')
    esc = pc.replace_substring(esc, "\n", "\\n")
    esc = pc.replace_substring(esc, "\r", "\\r")
    esc = pc.replace_substring(esc, "\t", "\\t")
    quoted = pc.binary_join_element_wise('"', esc, '"', "")
    odd = pc.fill_null(pc.match_substring_regex(text, _CONTROL_RE), False)
    if pc.any(odd).as_py():
        values = text.to_pylist()
        flags = odd.to_pylist()
        fixed = [
            json.dumps(v, ensure_ascii=False) if f else q
            for v, f, q in zip(values, flags, quoted.to_pylist(), strict=True)
        ]
        quoted = pa.array(fixed, pa.string())
    return quoted


def row_json(
    arrays: dict[str, pa.Array], columns: list[PortalColumn], trailer: str = ""
) -> pa.Array:
    """Each row as a JSON object (plus `trailer`), every field present, in name order.

    An empty value is sent as an explicit `null`: Socrata's upsert keeps the old value of any
    field a row leaves out, so omitting it would leave a count published after the source
    suppressed it (or any value the source cleared) on the portal for good.
    """
    if not columns:
        raise ValueError("row_json needs at least one column")
    parts = []
    for index, column in enumerate(sorted(columns, key=lambda c: c.field_name)):
        frag = pc.fill_null(json_fragment(arrays[column.field_name], column), "null")
        key = ("{" if index == 0 else ",") + json.dumps(column.field_name) + ":"
        parts.append(pc.binary_join_element_wise(key, frag, ""))
    return pc.binary_join_element_wise(*parts, "}" + trailer, "")


def string_bytes(array: pa.Array) -> tuple[bytes, np.ndarray]:
    """The concatenated UTF-8 bytes of a string array (no nulls) and each value's length."""
    if array.null_count:
        raise ValueError("string_bytes needs an array without nulls")
    array = array.cast(pa.large_string()) if pa.types.is_string(array.type) else array
    _, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, np.int64, len(array) + 1, offset=8 * array.offset)
    start, stop = int(offsets[0]), int(offsets[-1])
    data = memoryview(data_buf)[start:stop].tobytes() if data_buf is not None else b""
    return data, np.diff(offsets)


def hash_strings(array: pa.Array) -> np.ndarray:
    """64-bit hashes of strings (SipHash via pandas); nulls hash to a fixed value."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if len(array) > 2000:
        sample = pc.count_distinct(array.slice(0, 1000)).as_py()
        if sample < 500:  # few distinct values: hash the dictionary, then gather
            enc = pc.dictionary_encode(array)
            dict_hashes = hash_strings(enc.dictionary)
            idx = enc.indices.to_numpy(zero_copy_only=False)
            out = dict_hashes[np.nan_to_num(idx, nan=0).astype(np.int64)]
            return np.where(enc.indices.is_null().to_numpy(zero_copy_only=False), _NULL, out)
    values = array.to_numpy(zero_copy_only=False)
    return pd.util.hash_array(values, categorize=False).astype(np.uint64, copy=False)


_NULL = np.uint64(0x6A09E667F3BCC909)
_MULT = np.uint64(0x9E3779B97F4A7C15)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer: spreads every input bit over the whole word."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def column_hash(array: pa.Array, column: PortalColumn) -> np.ndarray:
    """A 64-bit hash per canonical value; equal values hash equally whichever path built them."""
    kind = canonical_type(column.data_type)
    valid = array.is_valid().to_numpy(zero_copy_only=False)
    # Numbers, flags and dates hash to their (injective) bit patterns; row_hashes mixes them.
    if kind == "number":
        values = np.nan_to_num(array.to_numpy(zero_copy_only=False), nan=0.0) + 0.0  # -0 -> 0
        h = values.view(np.uint64) ^ np.uint64(0x1)
    elif kind == "bool":
        h = pc.fill_null(array, False).to_numpy(zero_copy_only=False).astype(np.uint64) + 2
    elif kind == "date":
        ms = pc.fill_null(pc.cast(array, pa.int64()), 0).to_numpy(zero_copy_only=False)
        h = ms.view(np.uint64) ^ np.uint64(0x3)
    else:
        h = hash_strings(array)
    return np.where(valid, h, _NULL)


def row_hashes(arrays: dict[str, pa.Array], columns: list[PortalColumn]) -> np.ndarray:
    """Fingerprint of each row: per-column hashes combined in field-name order.

    h = sum(c_i * M^(n-i)) mod 2^64 with M odd, so a change in any one column always changes h;
    one final splitmix spreads the bits.
    """
    with np.errstate(over="ignore"):
        h = np.zeros(len(next(iter(arrays.values()))), np.uint64)
        for column in sorted(columns, key=lambda c: c.field_name):
            h *= _MULT
            h += column_hash(arrays[column.field_name], column)
    return _mix(h)


def key_text(array: pa.Array, column: PortalColumn) -> pa.Array:
    """The row identifier as text, the way it is stored and matched."""
    if canonical_type(column.data_type) == "number":
        return pc.cast(array, pa.string())
    if canonical_type(column.data_type) == "bool":
        return pc.if_else(array, "true", "false")
    return array


def portal_rows_to_arrays(
    rows: list[dict[str, Any]], columns: list[PortalColumn]
) -> dict[str, pa.Array]:
    """Rows read back from the portal, in canonical form (same as the source would give)."""
    out: dict[str, pa.Array] = {}
    for column in columns:
        name = column.field_name
        raw = [_portal_text(r.get(name)) for r in rows]
        out[name] = canonicalize(pa.array(raw, pa.string()), column)
    return out


def _portal_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)
