"""Every paging style against the agency API stand-in, with faults: 429 with Retry-After, 5xx
and dropped connections are retried page by page, a page that keeps failing fails the read
(nothing partial), a next link to another host is refused, the total is checked."""

from __future__ import annotations

import time

import pytest

from agency_api_emulator import AgencyApi, Fault, run_api
from ctdata.errors import SourceError, SourceUnavailableError
from ctdata.sources import extract
from tests.sources.support import FAST_RETRY, dataset, lookup

RECORDS = [{"town": f"Town {i:02d}", "n": i} for i in range(10)]
STYLES = {
    "offset": {"endpoint": "records/offset", "records_path": "items",
               "paging": {"style": "offset", "page_size": 3, "total_path": "total"}},
    "page": {"endpoint": "records/page", "records_path": "items",
             "paging": {"style": "page", "page_size": 3, "size_param": "per_page",
                        "total_path": "total"}},
    "next_link": {"endpoint": "records/next", "records_path": "results",
                  "paging": {"style": "next_link", "page_size": 3, "size_param": "per_page"}},
    "link_header": {"endpoint": "records/link",
                    "paging": {"style": "link_header", "page_size": 3, "size_param": "per_page"}},
    "cursor": {"endpoint": "records/cursor", "records_path": "data",
               "paging": {"style": "cursor", "page_size": 3, "size_param": "per_page",
                          "cursor_path": "meta.next_cursor"}},
}  # fmt: skip


def _source(style: str, **extra) -> dict:
    return {"kind": "http", "conn_id": "api", "retry": FAST_RETRY, **STYLES[style], **extra}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_style_reads_every_record_once(style: str) -> None:
    api = AgencyApi(list(RECORDS))
    with run_api(api) as url:
        frame = extract(dataset(_source(style)), connections=lookup(url))
    assert frame["town"].tolist() == [r["town"] for r in RECORDS]
    assert len([p for p, _ in api.requests if p.startswith("/records")]) >= 4  # 4 pages of 3


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_throttled_or_failing_page_is_retried_alone(style: str) -> None:
    api = AgencyApi(list(RECORDS))
    api.fail("/records", Fault(429, retry_after="1"), after=1)  # the second page: 429
    api.fail("/records", Fault(503), after=1)  # then a 503 on the one after
    api.fail("/records", Fault(0), after=2)  # and a dropped connection later
    started = time.monotonic()
    with run_api(api) as url:
        frame = extract(dataset(_source(style)), connections=lookup(url))
    assert frame["town"].tolist() == [r["town"] for r in RECORDS]
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured
    first = api.requests[0]
    assert api.requests.count(first) == 1  # the first page was not read again


def test_a_page_that_keeps_failing_fails_the_read_and_says_retrying_may_help() -> None:
    api = AgencyApi(list(RECORDS))
    api.fail("/records", Fault(503), times=10, after=2)
    with run_api(api) as url, pytest.raises(SourceUnavailableError, match="503.*4 attempts"):
        extract(dataset(_source("offset")), connections=lookup(url))


def test_a_refusal_fails_at_once() -> None:
    api = AgencyApi(list(RECORDS), user=("reader", "secret-pass"))
    with run_api(api) as url, pytest.raises(SourceError, match="HTTP 401") as raised:
        extract(dataset(_source("page")), connections=lookup(url))
    assert not isinstance(raised.value, SourceUnavailableError)
    assert len(api.requests) == 1  # a 4xx is not retried


def test_basic_auth_and_header_extras_of_the_connection_are_sent() -> None:
    api = AgencyApi(list(RECORDS), user=("reader", "secret-pass"))
    with run_api(api) as url:
        frame = extract(dataset(_source("cursor")),
                        connections=lookup(url, login="reader", password="secret-pass"))  # fmt: skip
    assert len(frame) == 10
    api = AgencyApi(list(RECORDS), token="tok-123")
    with run_api(api) as url:
        extra = {"Authorization": "Bearer tok-123"}
        frame = extract(dataset(_source("next_link")), connections=lookup(url, extra=extra))
    assert len(frame) == 10


def test_a_total_that_disagrees_is_a_partial_read() -> None:
    api = AgencyApi(list(RECORDS))
    original = api.answer

    def shrinking(path, query, base):  # a record vanishes between pages
        status, headers, body = original(path, query, base)
        if query.get("offset") == "3":
            body["items"] = body["items"][:2]
        return status, headers, body

    api.answer = shrinking  # type: ignore[method-assign]
    with run_api(api) as url, pytest.raises(SourceError, match="partial read"):
        extract(dataset(_source("offset")), connections=lookup(url))


def test_a_next_link_to_another_server_is_refused() -> None:
    api = AgencyApi(list(RECORDS))
    original = api.answer

    def elsewhere(path, query, base):
        status, headers, body = original(path, query, base)
        if body.get("next"):
            body["next"] = "http://attacker.example/records/next?from=3"
        return status, headers, body

    api.answer = elsewhere  # type: ignore[method-assign]
    with run_api(api) as url, pytest.raises(SourceError, match="another server"):
        extract(dataset(_source("next_link")), connections=lookup(url))


def test_through_airflow_http_hook_with_its_connection_and_retries(monkeypatch) -> None:
    """The DAG's path: the connection is Airflow's (here AIRFLOW_CONN_API in JSON form), and
    every page goes through the HTTP provider's HttpHook.run_with_advanced_retry."""
    import json

    from airflow.providers.http.hooks.http import HttpHook

    from ctdata.airflow.runtime import airflow_connection

    api = AgencyApi(list(RECORDS), user=("reader", "secret-pass"))
    api.fail("/records", Fault(429, retry_after="0"), after=1)
    calls = []
    real = HttpHook.run_with_advanced_retry

    def counted(self, *args, **kwargs):
        calls.append(kwargs.get("endpoint", args[1] if len(args) > 1 else None))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(HttpHook, "run_with_advanced_retry", counted)
    with run_api(api) as url:
        host, port = url.removeprefix("http://").split(":")
        monkeypatch.setenv("AIRFLOW_CONN_API", json.dumps({
            "conn_type": "http", "host": host, "port": int(port), "schema": "http",
            "login": "reader", "password": "secret-pass"}))  # fmt: skip
        frame = extract(dataset(_source("link_header")), connections=airflow_connection)
    assert frame["town"].tolist() == [r["town"] for r in RECORDS]
    assert len(calls) == 4  # one hook call per page; the 429 was retried inside the second
    assert len([p for p, _ in api.requests]) == 5
