"""The canonical form of values: how source and portal values are typed, vectorized with Arrow.

One canonical form serves three purposes: it is what is serialized and sent (encoding.py), what
is hashed (fingerprints.py) and what a portal read-back is converted to, so a row read back
from the portal hashes exactly like the source row that produced it.

Canonical Arrow types: number -> float64 (sent as a JSON number), checkbox -> bool,
calendar_date -> timestamp[ms] (sent as the floating timestamp "YYYY-MM-DDTHH:MM:SS.mmm"),
point, line, multiline, polygon, multipolygon -> canonical GeoJSON text (ctdata.geometry:
rounded coordinates, so formatting never changes a fingerprint), location (read only) -> its
JSON text, url -> `{"url": ...}` JSON text (sent raw, as the portal reads them back),
everything else -> string (empty strings are null, as the portal stores them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ctdata.geometry import GeometryError, canonical_geojson, is_geometry_type
from ctdata.portal.schema import PortalColumn

NUMBER_TYPES = frozenset({"number", "money", "percent", "double"})
DATE_TYPES = frozenset({"calendar_date", "date", "floating_timestamp"})
BOOL_TYPES = frozenset({"checkbox", "boolean"})
URL_TYPES = frozenset({"url"})

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
    if is_geometry_type(data_type) or data_type == "location":
        return data_type
    if data_type in URL_TYPES:
        return "url"
    return "text"


def canonicalize(
    array: pa.Array | pa.ChunkedArray,
    column: PortalColumn,
    *,
    first_row: int = 0,
    problems: TypeProblems | None = None,
) -> pa.Array:
    """Convert one source column to its canonical Arrow form; record values that do not fit.

    A dictionary-encoded column (how Parquet stores repetitive text, see source.py) is
    converted once per distinct value; text stays a dictionary (`plain` decodes it).
    """
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    kind = canonical_type(column.data_type)
    convert = _converter(kind)
    if pa.types.is_dictionary(array.type):
        out, bad = _convert_dictionary(array, convert, keep=kind == "text")
    else:
        out, bad = convert(array)
    if bad is not None and problems is not None:
        idx = np.flatnonzero(np.asarray(bad.to_numpy(zero_copy_only=False), dtype=bool))
        if len(idx):
            values = array.take(pa.array(idx[:3])).to_pylist()
            problems.add(column.field_name, idx + first_row, values)
    return out


def _converter(kind: str) -> Any:
    if is_geometry_type(kind):
        return lambda array: _per_value(array, lambda v: _geometry_json(v, kind))
    if kind == "location":
        return lambda array: _per_value(array, _location_json)
    convert = {"number": _to_number, "date": _to_date, "bool": _to_bool, "url": _to_url}
    return convert.get(kind, _to_text)


def _convert_dictionary(
    array: pa.DictionaryArray, convert: Any, *, keep: bool
) -> tuple[pa.Array, pa.Array | None]:
    """Convert the distinct values, then spread them over the rows (or keep the dictionary)."""
    values, bad_values = convert(array.dictionary)
    indices = array.indices
    bad = None if bad_values is None else pc.fill_null(bad_values.take(indices), False)
    if not keep:
        return values.take(indices), bad
    if values.null_count:  # "" became null: rows pointing at it are null rows
        indices = pc.if_else(pc.fill_null(values.is_valid().take(indices), False), indices, None)
    return pa.DictionaryArray.from_arrays(indices, values), bad


def plain(array: pa.Array) -> pa.Array:
    """The values themselves, decoding a dictionary-encoded array."""
    if pa.types.is_dictionary(array.type):
        return array.cast(array.type.value_type)
    return array


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
        text = format_timestamp(_to_date(array)[0])
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
    empty = pc.equal(text, "")
    return pc.if_else(empty, None, text) if pc.any(empty).as_py() else text


def _to_number(array: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    t = array.type
    if pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t):
        num = pc.cast(array, pa.float64())
        if not num.null_count and np.isfinite(num.to_numpy()).all():
            return num, None  # the common case, in one pass
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


def format_timestamp(ts: pa.Array) -> pa.Array:
    """The floating timestamp text the portal uses ("YYYY-MM-DDTHH:MM:SS.mmm").

    Arrow's cast of a millisecond timestamp prints "YYYY-MM-DD HH:MM:SS.mmm"; it is several
    times faster than strftime, which matters for every date of every row sent.
    """
    return pc.replace_substring(pc.cast(ts, pa.string()), " ", "T", max_replacements=1)


def _per_value(array: pa.Array, convert: Any) -> tuple[pa.Array, pa.Array]:
    """Convert value by value (geometries and links are rare columns); flag values that fail."""
    out: list[str | None] = []
    bad: list[bool] = []
    for value in array.to_pylist():
        converted = convert(value)
        out.append(converted)
        bad.append(value not in (None, "") and converted is None)
    return pa.array(out, pa.string()), pa.array(bad, pa.bool_())


def _to_url(array: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    return _per_value(array, _url_json)


def _url_json(value: Any) -> str | None:
    """A link as the portal stores it: `{"url": ..., "description": ...}` (description optional)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, dict):
        url, description = value.get("url"), value.get("description")
    else:
        url, description = value, None
    if not isinstance(url, str) or not url.strip().lower().startswith(("http://", "https://")):
        return None
    link = {"url": url.strip()}
    if description not in (None, ""):
        link["description"] = str(description)
    return json.dumps(link, separators=(",", ":"), ensure_ascii=False)


def _geometry_json(value: Any, data_type: str) -> str | None:
    try:
        return canonical_geojson(value, data_type)
    except GeometryError:
        return None


def _location_json(value: Any) -> str | None:
    """Socrata's legacy location ({latitude, longitude, human_address}), as read back."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict):
        return None
    kept = {k: value[k] for k in ("latitude", "longitude", "human_address") if value.get(k)}
    return json.dumps(kept, separators=(",", ":"), sort_keys=True) if kept else None


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
