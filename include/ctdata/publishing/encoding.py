"""Rows as the JSON the portal takes, built with vectorized Arrow string kernels (no per-row Python)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ctdata.portal.schema import PortalColumn
from ctdata.publishing.canonical import canonical_type, format_timestamp, plain

_CONTROL_RE = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]"


def json_fragment(array: pa.Array, column: PortalColumn) -> pa.Array:
    """The JSON text of each canonical value (null where the value is null)."""
    array = plain(array)
    kind = canonical_type(column.data_type)
    if kind == "number":
        return pc.cast(array, pa.string())
    if kind == "bool":
        return pc.if_else(array, "true", "false")
    if kind not in ("text", "date"):  # geometries, locations and links: already JSON text
        return array
    if kind == "date":
        return pc.binary_join_element_wise('"', format_timestamp(array), '"', "")
    return json_string(array)


def _plain(text: pa.Array) -> bool:
    """No value needs escaping in JSON (no quote, backslash or control character): checked on
    the array's bytes in one numpy pass, several times faster than a regex per value."""
    _, offsets_buf, data_buf = text.buffers()
    if data_buf is None:
        return True
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    offsets = np.frombuffer(
        offsets_buf, width, len(text) + 1, offset=width().itemsize * text.offset
    )
    data = np.frombuffer(data_buf, np.uint8)[int(offsets[0]) : int(offsets[-1])]
    return not bool(((data < 0x20) | (data == 0x22) | (data == 0x5C)).any())


def json_string(text: pa.Array) -> pa.Array:
    """Quote and escape strings as JSON, vectorized (rare control characters via json.dumps)."""
    if _plain(text):
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
    parts: list[str | pa.Array] = []  # keys as scalars between the values: one join per batch
    closing = ""  # a quote owed by plain text joined unquoted
    for index, column in enumerate(sorted(columns, key=lambda c: c.field_name)):
        key = closing + ("{" if index == 0 else ",") + json.dumps(column.field_name) + ":"
        values = plain(arrays[column.field_name])
        is_text = canonical_type(column.data_type) == "text" and not values.null_count
        if is_text and _plain(values):  # the common case: the quotes go into the join
            parts += [key + '"', values]
            closing = '"'
        else:
            parts += [key, pc.fill_null(json_fragment(values, column), "null")]
            closing = ""
    return pc.binary_join_element_wise(*parts, closing + "}" + trailer, "")


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
