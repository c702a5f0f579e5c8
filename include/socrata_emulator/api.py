"""Socrata's HTTP API over the Store: routing, auth, and the wire shapes of each endpoint.

Independent of the HTTP server (server.py feeds it `Request`s), so the rules are testable and
the transport stays thin, as in moto.
"""

from __future__ import annotations

import base64
import binascii
import csv
import html
import io
import re
import time
from collections.abc import Callable
from typing import Any

import msgspec

from socrata_emulator import geo
from socrata_emulator.analytics import (
    API_READ,
    DOWNLOAD,
    GRID_VIEW,
    PRIMER_VIEW,
    SiteAnalytics,
    Usage,
)
from socrata_emulator.catalog import CatalogEndpoints
from socrata_emulator.coerce import json_formatter
from socrata_emulator.files import BlobStore, FileEndpoints
from socrata_emulator.models import Accounts, ApiError, Dataset, bad_request, not_found
from socrata_emulator.rows import parse_csv_rows
from socrata_emulator.store import Store
from socrata_emulator.wire import (
    CSV,
    ENCODER,
    JSON,
    Request,
    Response,
    csv_body,
    error_response,
    forbidden,
    json_response,
    json_rows,
    unauthenticated,
    write_csv_rows,
)

__all__ = ["PortalApi", "Request", "Response", "json_response"]

_ID = r"([a-z0-9]{4}-[a-z0-9]{4})"
CRS84 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}


class PortalApi(CatalogEndpoints, FileEndpoints):
    """Dispatches requests to endpoint methods; raises ApiError for every refusal."""

    def __init__(
        self,
        store: Store,
        accounts: Accounts,
        domain: str = "data.ct.gov",
        analytics: SiteAnalytics | None = None,
    ):
        self.store, self.accounts, self.domain = store, accounts, domain
        self.analytics, self.blobs = analytics, BlobStore(store)
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
            (r(rf"^/api/views/{_ID}/files/([^/]+)$"), {"GET": self.view_file}),
            (r(r"^/api/assets/?$"), {"POST": self.upload_asset}),
            (r(r"^/api/assets/([^/]+)$"), {"GET": self.get_asset}),
            (r(rf"^/resource/{_ID}\.geojson$"), {"GET": self.read_geojson}),
            (
                r(rf"^/resource/{_ID}\.(json|csv)$"),
                {"GET": self.read_rows, "POST": self.upsert, "PUT": self.replace},
            ),
            (r(rf"^/resource/{_ID}/([^/]+)\.json$"), {"DELETE": self.delete_row}),
            (r(r"^/api/catalog/v1/?$"), {"GET": self.catalog}),
            (r(rf"^/d/{_ID}/?$"), {"GET": self.landing_page}),
            (r(rf"^/[^/]+/[^/]+/{_ID}/?$"), {"GET": self.landing_page}),
            (r(rf"^/[^/]+/[^/]+/{_ID}/data/?$"), {"GET": self.grid_page}),
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
        raise unauthenticated()

    def _readable(self, user: str | None, ds_id: str) -> Dataset:
        ds = self.store.get(ds_id)
        if not self.accounts.can_read(user, ds):
            if user is None:
                raise unauthenticated()
            raise forbidden(f"You do not have access to view {ds_id}")
        return ds

    def _writable(self, user: str | None, ds_id: str) -> Dataset:
        ds = self.store.get(ds_id)
        if user is None:
            raise unauthenticated()
        if not self.accounts.can_write(user, ds):
            raise forbidden(f"User {user} may not modify view {ds_id}")
        return ds

    def _body(self, req: Request) -> Any:
        if not req.body:
            raise bad_request("The request body is empty; send JSON")
        try:
            return msgspec.json.decode(req.body)
        except msgspec.DecodeError as exc:
            raise bad_request(f"The request body is not valid JSON: {exc}") from None

    def usage(self, asset_id: str | None = None) -> dict[str, Usage]:
        """Totals per asset from the site analytics (none when the portal keeps no analytics)."""
        return self.analytics.totals(asset_id) if self.analytics else {}

    def _count(self, ds: Dataset, access_type: str, user: str | None) -> None:
        if self.analytics is not None:
            self.analytics.record(ds, access_type, user)

    def _view(self, ds: Dataset) -> dict[str, Any]:
        u = self.usage(ds.id).get(ds.id, Usage())
        return ds.view(u.views, u.downloads)

    # ---- views ------------------------------------------------------------------------------

    def create_view(self, req: Request, user: str | None) -> Response:
        if user is None:
            raise unauthenticated()
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
            return Response(200, b"", JSON)
        body = self._body(req)
        self.checked_attachments(body)
        return json_response(self._view(self.store.update(ds, body)))

    def delete_view(self, req: Request, user: str | None, ds_id: str) -> Response:
        self.store.delete(self._writable(user, ds_id))
        return Response(200, b"", JSON)

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
        return Response(200, b"", JSON)

    def read_rows(self, req: Request, user: str | None, ds_id: str, fmt: str) -> Response:
        ds = self._readable(user, ds_id)
        params = dict(req.params)
        columns, rows, out_of_date = self.store.read(ds, params)
        headers = {
            "X-SODA2-Fields": ENCODER.encode([c.key for c in columns]).decode(),
            "X-SODA2-Types": ENCODER.encode([c.dtype for c in columns]).decode(),
            "X-SODA2-Data-Out-Of-Date": "true" if out_of_date else "false",
            "Last-Modified": time.strftime(
                "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(ds.rowsUpdatedAt)
            ),
        }
        keys = [c.key for c in columns]
        if fmt == "csv":
            body = csv_body(keys, [c.dtype for c in columns], rows)
            resp = Response(200, body, CSV, headers)
        else:
            resp = Response(200, json_rows(keys, [c.dtype for c in columns], rows), JSON, headers)
        self._count(ds, API_READ, user)
        return resp

    def read_geojson(self, req: Request, user: str | None, ds_id: str) -> Response:
        """`/resource/{id}.geojson`: the rows as a FeatureCollection, the first geospatial
        column of the answer as each feature's geometry, the others as its properties
        (formatted as in JSON answers: numbers as strings)."""
        ds = self._readable(user, ds_id)
        columns, rows, _ = self.store.read(ds, dict(req.params))
        geometric = [i for i, c in enumerate(columns) if c.dtype in geo.GEOMETRY_TYPES]
        if not geometric:
            raise bad_request(f"Dataset {ds_id} has no geospatial column to export as GeoJSON")
        at = geometric[0]
        keys = [c.key for c in columns]
        formats = [json_formatter(c.dtype) for c in columns]
        features = []
        for row in rows:
            properties = {
                k: (f(v) if f and v is not None else v)
                for i, (k, f, v) in enumerate(zip(keys, formats, row, strict=True))
                if i != at
            }
            shape = None if row[at] is None else msgspec.Raw(row[at].encode())
            features.append({"type": "Feature", "geometry": shape, "properties": properties})
        body = {"type": "FeatureCollection", "features": features, "crs": CRS84}
        self._count(ds, API_READ, user)
        return Response(200, ENCODER.encode(body), "application/vnd.geo+json", {})

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
            write_csv_rows(writer, dtypes, rows)
            if len(rows) < 50000:
                break
            offset += 50000
        self._count(ds, DOWNLOAD, user)  # an export is a download with or without ?accessType
        filename = re.sub(r"[^A-Za-z0-9_.-]+", "_", ds.name) + ".csv"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(200, out.getvalue().encode(), CSV, headers)

    def landing_page(self, req: Request, user: str | None, ds_id: str) -> Response:
        """The dataset's primer page (`/d/{id}` redirects there on a real portal)."""
        ds = self._readable(user, ds_id)
        self._count(ds, PRIMER_VIEW, user)
        return _html_page(ds)

    def grid_page(self, req: Request, user: str | None, ds_id: str) -> Response:
        """The dataset's table ("grid") page."""
        ds = self._readable(user, ds_id)
        self._count(ds, GRID_VIEW, user)
        return _html_page(ds)


def _html_page(ds: Dataset) -> Response:
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(ds.name)}"
        f"</title></head><body><h1>{html.escape(ds.name)}</h1>"
        f"<p>{html.escape(ds.description or '')}</p>"
        f"<p><a href='/api/views/{ds.id}/rows.csv?accessType=DOWNLOAD'>Export CSV</a> "
        f"<a href='/resource/{ds.id}.json'>API</a></p></body></html>"
    )
    return Response(200, page.encode(), "text/html; charset=utf-8")
