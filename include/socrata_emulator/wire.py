"""Socrata's wire shapes shared by the endpoints: requests, responses, errors and row bodies."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import msgspec

from socrata_emulator.coerce import csv_formatter, json_formatter
from socrata_emulator.models import ApiError, bad_request

JSON = "application/json; charset=utf-8"
CSV = "text/csv; charset=utf-8"
ENCODER = msgspec.json.Encoder()


@dataclass
class Request:
    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    def param(self, key: str, default: str | None = None) -> str | None:
        for k, v in reversed(self.params):
            if k == key:
                return v
        return default

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.params if k in (key, key + "[]")]


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    is_write: bool = False


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, ENCODER.encode(data), JSON, headers or {})


def error_response(err: ApiError) -> Response:
    return json_response(err.body(), err.status, err.headers)


def unauthenticated() -> ApiError:
    return ApiError(401, "authentication_required", "You must be logged in to access this resource")


def forbidden(message: str) -> ApiError:
    return ApiError(403, "permission_denied", message)


def iso_time(epoch: int) -> str:
    """Epoch seconds as the Discovery API's UTC timestamps."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def int_param(raw: str | None, default: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise bad_request(f"{name} must be a non-negative integer, got {raw!r}")
    return int(raw)


def json_rows(keys: list[str], dtypes: list[str], rows: list[tuple]) -> bytes:
    """Rows as Socrata's JSON objects: nulls omitted, numbers as strings."""
    fmts = [json_formatter(t) for t in dtypes]
    if all(f is None for f in fmts):
        out = [{k: v for k, v in zip(keys, row, strict=True) if v is not None} for row in rows]
    else:
        spec = list(zip(keys, fmts, strict=True))
        out = []
        for row in rows:
            d = {}
            for (k, f), v in zip(spec, row, strict=True):
                if v is not None:
                    d[k] = f(v) if f else v
            out.append(d)
    return ENCODER.encode(out)


def write_csv_rows(writer: Any, dtypes: list[str], rows: list[tuple]) -> None:
    fmts = [csv_formatter(t) for t in dtypes]
    writer.writerows(
        ["" if v is None else f(v) for f, v in zip(fmts, row, strict=True)] for row in rows
    )


def csv_body(keys: list[str], dtypes: list[str], rows: list[tuple]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(keys)
    write_csv_rows(writer, dtypes, rows)
    return out.getvalue().encode()
