"""Socrata's HTTP API over the Store: routing, auth, and the wire shapes of each endpoint.

Independent of the HTTP server (server.py feeds it `Request`s), so the rules are testable and
the transport stays thin, as in moto.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import html
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from socrata_emulator.coerce import csv_formatter, json_formatter
from socrata_emulator.models import Accounts, ApiError, Dataset, bad_request, not_found, user_id
from socrata_emulator.rows import parse_csv_rows
from socrata_emulator.store import Store

_ID = r"([a-z0-9]{4}-[a-z0-9]{4})"
_JSON = "application/json; charset=utf-8"
_CSV = "text/csv; charset=utf-8"
_ENCODER = msgspec.json.Encoder()


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
    content_type: str = _JSON
    headers: dict[str, str] = field(default_factory=dict)
    is_write: bool = False


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, _ENCODER.encode(data), _JSON, headers or {})


def error_response(err: ApiError) -> Response:
    return json_response(err.body(), err.status, err.headers)


def _iso(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class PortalApi:
    """Dispatches requests to endpoint methods; raises ApiError for every refusal."""

    def __init__(self, store: Store, accounts: Accounts, domain: str = "data.ct.gov"):
        self.store, self.accounts, self.domain = store, accounts, domain
        r = re.compile
        self.routes: list[tuple[re.Pattern[str], dict[str, Callable[..., Response]]]] = [
            (r(r"^/api/views\.json$"), {"POST": self.create_view}),
            (
                r(rf"^/api/views/{_ID}\.json$"),
                {"GET": self.get_view, "PUT": self.put_view, "DELETE": self.delete_view},
            ),
            (r(rf"^/api/views/{_ID}/publication\.json$"), {"POST": self.publish}),
            (
                r(rf"^/api/views/{_ID}/columns\.json$"),
                {"GET": self.list_columns, "POST": self.add_column},
            ),
            (
                r(rf"^/api/views/{_ID}/columns/(\d+)\.json$"),
                {"GET": self.get_column, "PUT": self.put_column, "DELETE": self.delete_column},
            ),
            (r(rf"^/api/views/{_ID}/rows\.csv$"), {"GET": self.export_csv}),
            (
                r(rf"^/resource/{_ID}\.(json|csv)$"),
                {"GET": self.read_rows, "POST": self.upsert, "PUT": self.replace},
            ),
            (r(rf"^/resource/{_ID}/([^/]+)\.json$"), {"DELETE": self.delete_row}),
            (r(r"^/api/catalog/v1/?$"), {"GET": self.catalog}),
            (r(rf"^/d/{_ID}/?$"), {"GET": self.landing_page}),
            (r(rf"^/[^/]+/[^/]+/{_ID}/?$"), {"GET": self.landing_page}),
        ]

    # ---- dispatch and auth -----------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        try:
            return self._dispatch(req)
        except ApiError as err:
            return error_response(err)

    def _dispatch(self, req: Request) -> Response:
        for pattern, methods in self.routes:
            m = pattern.match(req.path)
            if m:
                handler = methods.get(req.method)
                if handler is None:
                    raise ApiError(
                        405, "method_not_allowed", f"{req.method} is not allowed on {req.path}"
                    )
                self._check_app_token(req)
                user = self._user(req)
                return handler(req, user, *m.groups())
        raise not_found(f"a resource at {req.path}")

    def _check_app_token(self, req: Request) -> None:
        token = req.headers.get("x-app-token")
        if token and self.accounts.app_tokens and token not in self.accounts.app_tokens:
            raise ApiError(403, "invalid_app_token", "Invalid app_token specified")

    def _user(self, req: Request) -> str | None:
        auth = req.headers.get("authorization")
        if not auth:
            return None
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "basic":
            try:
                email, _, password = base64.b64decode(value).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                email, password = "", ""
            if self.accounts.check(email, password):
                return email
        raise _unauthenticated()

    def _readable(self, user: str | None, ds_id: str) -> Dataset:
        ds = self.store.get(ds_id)
        if not self.accounts.can_read(user, ds):
            if user is None:
                raise _unauthenticated()
            raise _forbidden(f"You do not have access to view {ds_id}")
        return ds

    def _writable(self, user: str | None, ds_id: str) -> Dataset:
        ds = self.store.get(ds_id)
        if user is None:
            raise _unauthenticated()
        if not self.accounts.can_write(user, ds):
            raise _forbidden(f"User {user} may not modify view {ds_id}")
        return ds

    def _body(self, req: Request) -> Any:
        if not req.body:
            raise bad_request("The request body is empty; send JSON")
        try:
            return msgspec.json.decode(req.body)
        except msgspec.DecodeError as exc:
            raise bad_request(f"The request body is not valid JSON: {exc}") from None

    def _view(self, ds: Dataset) -> dict[str, Any]:
        u = self.store.usage(ds.id).get(ds.id, {})
        return ds.view(u.get("views", 0), u.get("downloads", 0))

    # ---- views ------------------------------------------------------------------------------

    def create_view(self, req: Request, user: str | None) -> Response:
        if user is None:
            raise _unauthenticated()
        ds = self.store.create(self._body(req), user)
        return json_response(self._view(ds))

    def get_view(self, req: Request, user: str | None, ds_id: str) -> Response:
        return json_response(self._view(self._readable(user, ds_id)))

    def put_view(self, req: Request, user: str | None, ds_id: str) -> Response:
        ds = self._writable(user, ds_id)
        if req.param("method") == "setPermission":
            value = req.param("value", "")
            if value not in ("public.read", "public", "private"):
                raise bad_request(f"setPermission value {value!r} must be public.read or private")
            self.store.set_flags(ds, public=value != "private")
            return Response(200, b"", _JSON)
        return json_response(self._view(self.store.update(ds, self._body(req))))

    def delete_view(self, req: Request, user: str | None, ds_id: str) -> Response:
        self.store.delete(self._writable(user, ds_id))
        return Response(200, b"", _JSON)

    def publish(self, req: Request, user: str | None, ds_id: str) -> Response:
        ds = self.store.set_flags(self._writable(user, ds_id), published=True)
        return json_response(self._view(ds))

    def list_columns(self, req: Request, user: str | None, ds_id: str) -> Response:
        return json_response(self._view(self._readable(user, ds_id))["columns"])

    def add_column(self, req: Request, user: str | None, ds_id: str) -> Response:
        col = self.store.add_column(self._writable(user, ds_id), self._body(req))
        return json_response(col.view())

    def get_column(self, req: Request, user: str | None, ds_id: str, cid: str) -> Response:
        col = self._readable(user, ds_id).column_by_id(int(cid))
        if col is None:
            raise not_found(f"column {cid} of view {ds_id}")
        return json_response(col.view())

    def put_column(self, req: Request, user: str | None, ds_id: str, cid: str) -> Response:
        col = self.store.update_column(self._writable(user, ds_id), int(cid), self._body(req))
        return json_response(col.view())

    def delete_column(self, req: Request, user: str | None, ds_id: str, cid: str) -> Response:
        col = self.store.delete_column(self._writable(user, ds_id), int(cid))
        return json_response(col.view())

    # ---- rows -------------------------------------------------------------------------------

    def _rows_payload(self, req: Request) -> Any:
        if "csv" in req.headers.get("content-type", ""):
            return parse_csv_rows(req.body.decode("utf-8-sig"))
        return self._body(req)

    def upsert(self, req: Request, user: str | None, ds_id: str, fmt: str) -> Response:
        ds = self._writable(user, ds_id)
        return json_response(self.store.write(ds, self._rows_payload(req)).body())

    def replace(self, req: Request, user: str | None, ds_id: str, fmt: str) -> Response:
        ds = self._writable(user, ds_id)
        counts = self.store.write(ds, self._rows_payload(req), replace=True)
        return json_response(counts.body())

    def delete_row(self, req: Request, user: str | None, ds_id: str, key: str) -> Response:
        ds = self._writable(user, ds_id)
        if not self.store.delete_row(ds, key):
            raise not_found(f"row {key} in view {ds_id}")
        return Response(200, b"", _JSON)

    def read_rows(self, req: Request, user: str | None, ds_id: str, fmt: str) -> Response:
        ds = self._readable(user, ds_id)
        params = dict(req.params)
        columns, rows, out_of_date = self.store.read(ds, params)
        headers = {
            "X-SODA2-Fields": _ENCODER.encode([c.key for c in columns]).decode(),
            "X-SODA2-Types": _ENCODER.encode([c.dtype for c in columns]).decode(),
            "X-SODA2-Data-Out-Of-Date": "true" if out_of_date else "false",
            "Last-Modified": time.strftime(
                "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(ds.rowsUpdatedAt)
            ),
        }
        keys = [c.key for c in columns]
        if fmt == "csv":
            body = _csv_body(keys, [c.dtype for c in columns], rows)
            resp = Response(200, body, _CSV, headers)
        else:
            resp = Response(200, _json_rows(keys, [c.dtype for c in columns], rows), _JSON, headers)
        self.store.record_usage(ds, "api")
        return resp

    def export_csv(self, req: Request, user: str | None, ds_id: str) -> Response:
        ds = self._readable(user, ds_id)
        cols = sorted(ds.columns, key=lambda c: c.position)
        params = {"$select": ", ".join(f"`{c.fieldName}`" for c in cols) or ":id"}
        params["$limit"] = "50000"
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow([c.name for c in cols])
        dtypes = [c.dataTypeName for c in cols]
        offset = 0
        while True:
            params["$offset"] = str(offset)
            _, rows = self.store.query(ds, params)
            _write_csv_rows(writer, dtypes, rows)
            if len(rows) < 50000:
                break
            offset += 50000
        if req.param("accessType", "").upper() == "DOWNLOAD":
            self.store.record_usage(ds, "download")
        else:
            self.store.record_usage(ds, "api")
        filename = re.sub(r"[^A-Za-z0-9_.-]+", "_", ds.name) + ".csv"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(200, out.getvalue().encode(), _CSV, headers)

    def landing_page(self, req: Request, user: str | None, ds_id: str) -> Response:
        ds = self._readable(user, ds_id)
        self.store.record_usage(ds, "view")
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(ds.name)}"
            f"</title></head><body><h1>{html.escape(ds.name)}</h1>"
            f"<p>{html.escape(ds.description or '')}</p>"
            f"<p><a href='/api/views/{ds.id}/rows.csv?accessType=DOWNLOAD'>Export CSV</a> "
            f"<a href='/resource/{ds.id}.json'>API</a></p></body></html>"
        )
        return Response(200, page.encode(), "text/html; charset=utf-8")

    # ---- catalog ----------------------------------------------------------------------------

    def catalog(self, req: Request, user: str | None) -> Response:
        started = time.perf_counter()
        limit = _int(req.param("limit"), 100, "limit")
        offset = _int(req.param("offset"), 0, "offset")
        if limit > 10000:
            raise bad_request(f"limit {limit} exceeds the maximum of 10000")
        usage = self.store.usage()
        found = [ds for ds in self.store.datasets.values() if self._matches(req, user, ds)]
        found.sort(key=lambda d: (d.name.lower(), d.id))
        order = req.param("order")
        if order:
            found = _order_catalog(found, order, usage)
        host = req.headers.get("host", self.domain)
        results = [
            self._catalog_entry(ds, usage.get(ds.id, {}), host)
            for ds in found[offset : offset + limit]
        ]
        ms = int((time.perf_counter() - started) * 1000)
        return json_response(
            {
                "results": results,
                "resultSetSize": len(found),
                "timings": {"serviceMillis": ms, "searchMillis": [ms, ms]},
            }
        )

    def _matches(self, req: Request, user: str | None, ds: Dataset) -> bool:
        if not self.accounts.can_read(user, ds):
            return False
        ids = req.all("ids")
        if ids and ds.id not in ids:
            return False
        only = [o.lower() for o in req.all("only")]
        if only and not {"dataset", "datasets"} & set(only):
            return False
        attribution = req.param("attribution")
        if attribution and (ds.attribution or "") != attribution:
            return False
        cats = req.all("categories")
        if cats and ds.category not in cats:
            return False
        tags = req.all("tags")
        if tags and not set(tags) & set(ds.tags):
            return False
        for flag, value in (("public", ds.public), ("published", ds.published)):
            want = req.param(flag)
            if want is not None and (want.lower() == "true") != value:
                return False
        q = (req.param("q") or "").lower().strip()
        if q:
            text = " ".join([ds.name, ds.description or "", *ds.tags]).lower()
            return all(word in text for word in q.split())
        return True

    def _catalog_entry(self, ds: Dataset, u: dict[str, int], host: str) -> dict[str, Any]:
        cols = sorted(ds.columns, key=lambda c: c.position)
        domain_metadata = [
            {"key": f"{fs}_{name}".replace(" ", "-"), "value": value}
            for fs, fields in (ds.custom_fields or {}).items()
            if isinstance(fields, dict)
            for name, value in fields.items()
        ]
        updated = max(ds.rowsUpdatedAt, ds.viewLastModified)
        slug = lambda s: re.sub(r"[^A-Za-z0-9]+", "-", s or "dataset").strip("-")  # noqa: E731
        return {
            "resource": {
                "name": ds.name,
                "id": ds.id,
                "parent_fxf": [],
                "description": ds.description or "",
                "attribution": ds.attribution,
                "attribution_link": ds.attributionLink,
                "contact_email": None,
                "type": "dataset",
                "updatedAt": _iso(updated),
                "createdAt": _iso(ds.createdAt),
                "metadata_updated_at": _iso(ds.viewLastModified),
                "data_updated_at": _iso(ds.rowsUpdatedAt),
                "page_views": {
                    "page_views_last_week": u.get("week", 0),
                    "page_views_last_month": u.get("month", 0),
                    "page_views_total": u.get("views", 0),
                },
                "download_count": u.get("downloads", 0),
                "columns_field_name": [c.fieldName for c in cols],
                "columns_name": [c.name for c in cols],
                "columns_datatype": [c.dataTypeName for c in cols],
                "columns_description": [c.description for c in cols],
                "provenance": "official",
                "publication_date": _iso(ds.createdAt),
            },
            "classification": {
                "categories": [],
                "tags": [],
                "domain_category": ds.category,
                "domain_tags": list(ds.tags),
                "domain_metadata": domain_metadata,
            },
            "metadata": {"domain": self.domain, "license": ds.licenseId or ""},
            "permalink": f"http://{host}/d/{ds.id}",
            "link": f"http://{host}/{slug(ds.category)}/{slug(ds.name)}/{ds.id}",
            "owner": {
                "id": user_id(ds.owner),
                "user_type": "interactive",
                "display_name": ds.owner,
            },
            "creator": {"id": user_id(ds.owner), "display_name": ds.owner},
        }


def _order_catalog(
    found: list[Dataset], order: str, usage: dict[str, dict[str, int]]
) -> list[Dataset]:
    key_name, _, direction = order.partition(" ")
    keys: dict[str, Callable[[Dataset], Any]] = {
        "name": lambda d: d.name.lower(),
        "createdAt": lambda d: d.createdAt,
        "updatedAt": lambda d: max(d.rowsUpdatedAt, d.viewLastModified),
        "page_views_total": lambda d: usage.get(d.id, {}).get("views", 0),
        "relevance": lambda d: 0,
    }
    if key_name not in keys:
        raise bad_request(f"order {key_name!r} is not one of {', '.join(keys)}")
    return sorted(found, key=keys[key_name], reverse=direction.strip().upper() == "DESC")


def _int(raw: str | None, default: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise bad_request(f"{name} must be a non-negative integer, got {raw!r}")
    return int(raw)


def _unauthenticated() -> ApiError:
    return ApiError(401, "authentication_required", "You must be logged in to access this resource")


def _forbidden(message: str) -> ApiError:
    return ApiError(403, "permission_denied", message)


def _json_rows(keys: list[str], dtypes: list[str], rows: list[tuple]) -> bytes:
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
    return _ENCODER.encode(out)


def _write_csv_rows(writer: Any, dtypes: list[str], rows: list[tuple]) -> None:
    fmts = [csv_formatter(t) for t in dtypes]
    writer.writerows(
        ["" if v is None else f(v) for f, v in zip(fmts, row, strict=True)] for row in rows
    )


def _csv_body(keys: list[str], dtypes: list[str], rows: list[tuple]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(keys)
    _write_csv_rows(writer, dtypes, rows)
    return out.getvalue().encode()
