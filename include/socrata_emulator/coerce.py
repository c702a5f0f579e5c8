"""Column types: turning incoming JSON/CSV values into stored SQLite values and back.

Conversion runs column by column over a whole request (one list comprehension per column) so a
10,000-row upsert pays no per-row Python dispatch; only odd values take the slow path.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

import msgspec

from socrata_emulator import geo

DATA_TYPES = ("text", "number", "calendar_date", "checkbox", "url", "location",
              *geo.GEOMETRY_TYPES)  # fmt: skip
SQL_AFFINITY = {
    "text": "TEXT",
    "number": "NUMERIC",
    "calendar_date": "TEXT",
    "checkbox": "INTEGER",
    "url": "TEXT",
    "location": "TEXT",
    **dict.fromkeys(geo.GEOMETRY_TYPES, "TEXT"),
}

_NUMBER_RE = re.compile(r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$")
_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?Z?$"
)
_INT64 = 2**63


class BadValue(ValueError):
    """A value that does not fit its column's type."""


def _number(v: Any) -> int | float:
    t = type(v)
    if t is int:
        return v if -_INT64 <= v < _INT64 else float(v)
    if t is float:
        if v - v != 0:  # nan or infinity
            raise BadValue("not a finite number")
        return v
    if t is str:
        if "_" not in v:
            try:
                return _number(int(v))
            except ValueError:
                pass
        if _NUMBER_RE.match(v):
            return _number(float(v))
    raise BadValue("not a number")


@lru_cache(maxsize=65536)
def _date(v: str) -> str:
    m = _DATE_RE.match(v.strip())
    if not m:
        raise BadValue("not a floating timestamp")
    y, mo, d, h, mi, s, frac = m.groups()
    try:
        dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    except ValueError as exc:
        raise BadValue(str(exc)) from None
    ms = (frac or "").ljust(3, "0")[:3]
    return f"{y}-{mo}-{d}T{h or '00'}:{mi or '00'}:{s or '00'}.{ms}"


def _date_any(v: Any) -> str:
    if type(v) is not str:
        raise BadValue("not a floating timestamp")
    return _date(v)


def _text(v: Any) -> str:
    t = type(v)
    if t is str:
        return v
    if t is int or t is float:
        return str(v)
    raise BadValue("not text")


def _checkbox(v: Any) -> int:
    if v is True or v is False:
        return int(v)
    if type(v) is str and v.strip().lower() in ("true", "false"):
        return int(v.strip().lower() == "true")
    raise BadValue("not true/false")


def _url(v: Any) -> str:
    if isinstance(v, dict) and isinstance(v.get("url"), str):
        out = {"url": v["url"]}
        if v.get("description") is not None:
            out["description"] = str(v["description"])
        return msgspec.json.encode(out).decode()
    if type(v) is str and v.startswith(("http://", "https://")):
        return msgspec.json.encode({"url": v}).decode()
    raise BadValue("not a URL")


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "number": _number,
    "calendar_date": _date_any,
    "checkbox": _checkbox,
    "url": _url,
    "location": geo.location,
    **{dtype: geo.geometry_converter(dtype) for dtype in geo.GEOMETRY_TYPES},
}
# Values of these Python types need no conversion for the column type (the fast path).
_PASS: dict[str, type] = {"text": str, "number": int, "checkbox": bool}


def convert_column(dtype: str, values: list[Any]) -> list[Any]:
    """Convert one column of a request; raise BadValue with `.index` at the first misfit."""
    conv = _CONVERTERS[dtype]
    keep = _PASS.get(dtype, type(None))
    try:
        if dtype == "number":  # SQLite's NUMERIC affinity stores integral floats as integers
            return [
                v if (t := type(v)) is int or (t is float and v - v == 0) or v is None else conv(v)
                for v in values
            ]
        return [v if v is None or type(v) is keep else conv(v) for v in values]
    except (BadValue, ValueError, TypeError, OverflowError):
        for i, v in enumerate(values):
            try:
                if v is not None:
                    conv(v)
            except (BadValue, ValueError, TypeError, OverflowError) as exc:
                err = BadValue(str(exc))
                err.index = i  # type: ignore[attr-defined]
                err.value = v  # type: ignore[attr-defined]
                raise err from None
        raise


def convert_value(dtype: str, value: Any) -> Any:
    """Convert one value (SoQL literals, simple filters); raises BadValue."""
    try:
        return _CONVERTERS[dtype](value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise BadValue(str(exc)) from None


# ---- output -------------------------------------------------------------------------------


def number_text(v: Any) -> str:
    """Socrata returns numbers as strings without exponent: "12", "3.5"."""
    if type(v) is int:
        return str(v)
    if type(v) is float:
        r = repr(v)
        if "e" in r or "E" in r:
            r = format(Decimal(r), "f")
        return r[:-2] if r.endswith(".0") else r
    return str(v)


def _raw(v: str) -> msgspec.Raw:
    return msgspec.Raw(v.encode())


def _url_csv(v: str) -> str:
    return msgspec.json.decode(v)["url"]


ROW_ID_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"


def encode_row_id(sid: int) -> str:
    """System row id `:id` like Socrata's ("row-xxxx.xxxx"), derived from the SQLite rowid."""
    chars = []
    for _ in range(8):
        sid, r = divmod(sid, 32)
        chars.append(ROW_ID_ALPHABET[r])
    s = "".join(reversed(chars))
    return f"row-{s[:4]}.{s[4:]}"


def decode_row_id(text: str) -> int | None:
    """Inverse of encode_row_id; None when `text` is not a row id."""
    if not isinstance(text, str) or not text.startswith("row-") or len(text) != 13:
        return None
    n = 0
    for ch in text[4:8] + text[9:]:
        i = ROW_ID_ALPHABET.find(ch)
        if i < 0:
            return None
        n = n * 32 + i
    return n


def json_formatter(dtype: str) -> Callable[[Any], Any] | None:
    """How a stored value of `dtype` appears in a JSON response (None = as stored)."""
    return {
        "number": number_text,
        "checkbox": bool,
        "url": _raw,
        "location": _raw,
        **dict.fromkeys(geo.GEOMETRY_TYPES, _raw),
        "rowid": encode_row_id,
        "boolean": bool,
    }.get(dtype)


def csv_formatter(dtype: str) -> Callable[[Any], str]:
    """How a stored value of `dtype` appears in a CSV cell."""
    return {
        "number": number_text,
        "checkbox": lambda v: "true" if v else "false",
        "boolean": lambda v: "true" if v else "false",
        "url": _url_csv,
        "location": geo.location_csv,
        **dict.fromkeys(geo.GEOMETRY_TYPES, geo.wkt),
        "rowid": encode_row_id,
    }.get(dtype, str)
