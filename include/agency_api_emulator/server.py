"""The server: a ThreadingHTTPServer on loopback in a thread, serving

- `/records/offset?offset=&limit=`, `/records/page?page=&per_page=` (1-based),
  `/records/next?per_page=` (body `{"results": [...], "next": "<url>|null"}`),
  `/records/link?per_page=` (RFC 8288 `Link: <...>; rel="next"` header),
  `/records/cursor?cursor=&per_page=` (body `{"data": [...], "meta": {"next_cursor": ...}}`);
  offset and page answers carry `{"total": N, "items": [...]}`;
- an ArcGIS REST layer at `/arcgis/rest/services/<name>/FeatureServer/0` (`?f=json` describes
  it, `/query` pages with resultOffset/resultRecordCount up to maxRecordCount and flags
  `exceededTransferLimit`, `returnCountOnly`, `where` as `1=1` or `FIELD='value'`,
  `outFields`, `orderByFields`, `f=geojson`; other `outSR` than 4326 is refused).

Faults are queued per path prefix (`api.fail("/records", Fault(429, retry_after=1), times=2)`)
and every request is logged (`api.requests`), so tests can check what was retried. Basic auth
or a bearer token is required when configured.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Fault:
    """What a faulty answer does: an HTTP status (with Retry-After), or a dropped connection
    (`status=0`), or an ArcGIS error inside a 200 answer (`arcgis_code`)."""

    status: int = 503
    retry_after: str | None = None
    arcgis_code: int | None = None


@dataclass
class AgencyApi:
    records: list[dict[str, Any]]
    features: list[dict[str, Any]] = field(default_factory=list)
    max_record_count: int = 2
    user: tuple[str, str] | None = None
    token: str | None = None
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _faults: list[tuple[str, Fault, list[int]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, prefix: str, fault: Fault, times: int = 1, *, after: int = 0) -> None:
        """The next `times` requests under `prefix` (after `after` good ones) answer `fault`."""
        self._faults.append((prefix, fault, [after, times]))

    def _fault_for(self, path: str) -> Fault | None:
        with self._lock:
            for prefix, fault, counts in self._faults:
                if path.startswith(prefix) and counts[1] > 0:
                    if counts[0] > 0:
                        counts[0] -= 1
                        return None
                    counts[1] -= 1
                    return fault
        return None

    # ---- answers ---------------------------------------------------------------------------

    def answer(self, path: str, query: dict[str, str], base: str) -> tuple[int, dict, Any]:
        size = int(query.get("per_page") or query.get("limit") or 3)
        if path == "/records/offset":
            start = int(query.get("offset", 0))
            return (
                200,
                {},
                {"total": len(self.records), "items": self.records[start : start + size]},
            )
        if path == "/records/page":
            start = (int(query.get("page", 1)) - 1) * size
            return (
                200,
                {},
                {"total": len(self.records), "items": self.records[start : start + size]},
            )
        if path in ("/records/next", "/records/link", "/records/cursor"):
            start = int(query.get("cursor") or query.get("from") or 0)
            page = self.records[start : start + size]
            more = start + size < len(self.records)
            following = f"{base}{path}?from={start + size}&per_page={size}" if more else None
            if path == "/records/next":
                return 200, {}, {"results": page, "next": following}
            if path == "/records/link":
                headers = {"Link": f'<{following}>; rel="next"'} if following else {}
                return 200, headers, page
            cursor = str(start + size) if more else None
            return 200, {}, {"data": page, "meta": {"next_cursor": cursor}}
        if path.startswith("/arcgis/rest/services/"):
            return self._arcgis(path, query)
        return 404, {}, {"error": f"no such endpoint {path}"}

    def _arcgis(self, path: str, query: dict[str, str]) -> tuple[int, dict, Any]:
        if not path.endswith("/query"):
            return 200, {}, {
                "name": "Towns", "type": "Feature Layer", "geometryType": "esriGeometryPolygon",
                "objectIdField": "OBJECTID", "maxRecordCount": self.max_record_count,
                "capabilities": "Query", "advancedQueryCapabilities": {"supportsPagination": True},
                "fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID"}],
            }  # fmt: skip
        chosen = [f for f in self.features if _matches(f, query.get("where", "1=1"))]
        if query.get("returnCountOnly") == "true":
            return 200, {}, {"count": len(chosen)}
        if query.get("outSR") not in (None, "4326") or query.get("f") != "geojson":
            return 200, {}, {"error": {"code": 400, "message": "Unable to complete operation.",
                                       "details": ["outSR 4326 and f=geojson only"]}}  # fmt: skip
        key = query.get("orderByFields")
        if key:
            chosen = sorted(chosen, key=lambda f: f["properties"][key])
        start = int(query.get("resultOffset", 0))
        count = min(int(query.get("resultRecordCount", self.max_record_count)),
                    self.max_record_count)  # fmt: skip
        page = chosen[start : start + count]
        fields = query.get("outFields", "*")
        if fields != "*":
            keep = fields.split(",")
            page = [{**f, "properties": {k: v for k, v in f["properties"].items() if k in keep}}
                    for f in page]  # fmt: skip
        body: dict[str, Any] = {"type": "FeatureCollection", "features": page}
        if start + count < len(chosen):
            body["properties"] = {"exceededTransferLimit": True}
        return 200, {}, body


def _matches(feature: dict[str, Any], where: str) -> bool:
    if where.strip() == "1=1":
        return True
    name, _, value = where.partition("=")
    return str(feature["properties"].get(name.strip())) == value.strip().strip("'")


def _handler(api: AgencyApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - the http.server interface
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            api.requests.append((parts.path, query))
            if not self._authorized():
                self._send(401, {"WWW-Authenticate": 'Basic realm="api"'}, {"error": "login"})
                return
            fault = api._fault_for(parts.path)
            if fault is not None:
                if fault.status == 0:
                    self.connection.shutdown(2)  # dropped mid-request
                    return
                if fault.arcgis_code is not None:
                    error = {"code": fault.arcgis_code, "message": "busy"}
                    self._send(200, {}, {"error": error})
                    return
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(fault.status, headers, {"error": "fault"})
                return
            host = self.headers.get("Host", "127.0.0.1")
            status, headers, body = api.answer(parts.path, query, f"http://{host}")
            self._send(status, headers, body)

        def _authorized(self) -> bool:
            given = self.headers.get("Authorization", "")
            if api.token is not None:
                return given == f"Bearer {api.token}"
            if api.user is None:
                return True
            expected = base64.b64encode(":".join(api.user).encode()).decode()
            return given == f"Basic {expected}"

        def _send(self, status: int, headers: dict[str, str], body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def run_api(api: AgencyApi) -> Iterator[str]:
    """Serve `api` on a free loopback port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
