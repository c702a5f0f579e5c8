"""The client's retry policy, against a tiny scripted HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ctdata.errors import PortalError
from ctdata.portal.client import AmbiguousWriteError, SocrataClient
from ctdata.portal.connection import PortalConnection


class Script:
    """Responses to hand out in order: (status, headers, body) or "drop"; the last repeats."""

    def __init__(self) -> None:
        self.steps: list = []
        self.seen: list[tuple[str, str]] = []

    def next(self):
        return self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            script.seen.append((self.command, self.path))
            step = script.next()
            if step == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            status, headers, body = step
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _any  # noqa: N815

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    httpd.shutdown()
    httpd.server_close()


def _client(url: str, sleeps: list[float] | None = None, **kw) -> SocrataClient:
    conn = PortalConnection.from_url(url, username="u@ct.gov", password="pa55word")
    sleep = sleeps.append if sleeps is not None else None
    if sleep:
        kw["sleep"] = sleep
    return SocrataClient(conn, backoff_base_seconds=0.01, **kw)


OK = (200, {}, {"Rows Created": 1, "Errors": 0})


def test_429_honours_retry_after(server) -> None:
    url, script = server
    script.steps = [(429, {"Retry-After": "7"}, {"message": "slow down"}), OK]
    sleeps: list[float] = []
    client = _client(url, sleeps)
    assert client.upsert("abcd-1234", [{"a": 1}])["Rows Created"] == 1
    assert sleeps and sleeps[0] >= 7
    assert client.stats.retries == 1 and client.stats.requests == 2


def test_5xx_and_dropped_connections_are_retried(server) -> None:
    url, script = server
    script.steps = [(503, {}, {"message": "busy"}), "drop", (502, {}, {}), OK]
    sleeps: list[float] = []
    client = _client(url, sleeps)
    client.upsert("abcd-1234", b'[{"a":1}]')
    assert len(script.seen) == 4 and client.stats.retries == 3
    assert sleeps[0] < sleeps[2]  # exponential backoff grows


def test_other_4xx_fail_at_once_with_portal_message(server) -> None:
    url, script = server
    script.steps = [(400, {}, {"error": True, "message": "Unknown column 'bogus'"})]
    client = _client(url, [])
    with pytest.raises(PortalError) as err:
        client.upsert("abcd-1234", [{"bogus": 1}])
    text = str(err.value)
    assert (
        "Unknown column 'bogus'" in text
        and "400" in text
        and "POST /resource/abcd-1234.json" in text
    )
    assert "pa55word" not in text and len(script.seen) == 1


def test_total_retry_time_is_bounded(server) -> None:
    url, script = server
    script.steps = [(503, {}, {"message": "down for maintenance"})]
    client = _client(url, max_retry_seconds=0.3)
    with pytest.raises(PortalError, match="still failing after .* down for maintenance"):
        client.get_metadata("abcd-1234")
    assert 1 < len(script.seen) < 100


def test_retry_after_beyond_the_budget_gives_up(server) -> None:
    url, script = server
    script.steps = [(429, {"Retry-After": "3600"}, {"message": "quota"})]
    sleeps: list[float] = []
    client = _client(url, sleeps, max_retry_seconds=5)
    with pytest.raises(PortalError, match="quota"):
        client.get_metadata("abcd-1234")
    assert sleeps == [] and len(script.seen) == 1


def test_appends_are_not_resent_after_ambiguous_failure(server) -> None:
    url, script = server
    script.steps = [(500, {}, {"message": "oops"}), OK]
    client = _client(url, [])
    with pytest.raises(AmbiguousWriteError, match="may or may not have applied"):
        client.upsert("abcd-1234", [{"a": 1}], idempotent=False)
    assert len(script.seen) == 1
    script.steps = [(429, {"Retry-After": "0"}, {}), OK]  # 429 proves nothing was applied
    client.upsert("abcd-1234", [{"a": 1}], idempotent=False)
    assert len(script.seen) == 3
