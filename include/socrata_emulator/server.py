"""The thin HTTP layer: HTTP/1.1 keep-alive server feeding requests to PortalApi.

Also where transport-level behaviour lives: injected faults (including dropped connections and
"applied, then 500") and artificial latency.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from socrata_emulator.api import PortalApi, Request, Response, json_response
from socrata_emulator.faults import FaultInjector

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_FAULT_STATUS = {
    "500": (500, "internal_error", "Internal server error"),
    "502": (502, "bad_gateway", "Bad gateway"),
    "503": (503, "service_unavailable", "Service temporarily unavailable"),
    "429": (429, "too_many_requests", "Too many requests; retry later"),
    "applied_500": (500, "internal_error", "Internal server error"),
}


class PortalServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, api: PortalApi, faults: FaultInjector, latency_ms: int = 0):
        super().__init__(address, PortalHandler)
        self.api, self.faults, self.latency = api, faults, latency_ms / 1000.0


def _fault_response(kind: str) -> Response:
    status, code, message = _FAULT_STATUS[kind]
    headers = {"Retry-After": "1"} if kind == "429" else {}
    return json_response({"code": code, "error": True, "message": message}, status, headers)


class PortalHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: PortalServer
    server_version = "SocrataStandIn/1.0"

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: tests and the demo read our stdout; errors go to stderr separately."""

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self, method: str) -> None:
        body = self._read_body()
        url = urlsplit(self.path)
        fault = self.server.faults.next() if method in WRITE_METHODS else None
        if fault == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault and fault != "applied_500":
            resp = _fault_response(fault)
        else:
            req = Request(
                method=method,
                path=unquote(url.path),
                params=parse_qsl(url.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            try:
                resp = self.server.api.handle(req)
            except Exception:
                traceback.print_exc(file=sys.stderr)
                resp = json_response(
                    {"code": "internal_error", "error": True, "message": "Internal error"}, 500
                )
            if fault == "applied_500" and resp.status < 400:
                resp = _fault_response(fault)
        if self.server.latency:
            time.sleep(self.server.latency)
        self._send(resp)

    def _send(self, resp: Response) -> None:
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(resp.body)


def serve(server: PortalServer, on_ready: threading.Event | None = None) -> None:
    """Serve until server.shutdown() is called from another thread."""
    if on_ready:
        on_ready.set()
    server.serve_forever(poll_interval=0.05)
