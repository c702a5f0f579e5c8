"""Requests to an agency's web API, seen by the library only through `HttpTransport`.

The Airflow front door gives a transport backed by the HTTP provider's `HttpHook` (its
connection, auth, extra headers and tenacity retries, ctdata.airflow.http); the command line
and tests use `RequestsTransport`, the same requests underneath. Both retry with one policy
(`retrying`): 429, 5xx, timeouts and dropped connections are retried, waiting as long as the
API's `Retry-After` asks (seconds or an HTTP date), else exponentially; other answers are
returned for the caller to judge. Messages name the endpoint without its query string, which
may hold an API key.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit

from ctdata.errors import SourceError, SourceUnavailableError

if TYPE_CHECKING:
    import requests

    from ctdata.connections import SourceConnection
    from ctdata.specs.sources import HttpRetry

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class HttpTransport(Protocol):
    """Sends one request (retried by the policy) and returns the final answer."""

    def __call__(
        self, method: str, endpoint: str, params: Mapping[str, Any], retry: HttpRetry,
        timeout: float,
    ) -> requests.Response: ...  # fmt: skip


def retrying(retry: HttpRetry) -> dict[str, Any]:
    """tenacity arguments of the retry policy (HttpHook.run_with_advanced_retry takes them)."""
    import requests
    import tenacity

    transient = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
    return {
        "retry": tenacity.retry_if_exception_type(transient)
        | tenacity.retry_if_result(lambda r: r.status_code in RETRY_STATUSES),
        "wait": _RetryAfterOrBackoff(retry.backoff_seconds, retry.max_wait_seconds),
        "stop": tenacity.stop_after_attempt(retry.attempts),
        "retry_error_callback": _last_outcome,
        "reraise": True,
        "sleep": time.sleep,
    }


def _last_outcome(state: Any) -> Any:
    """After the last attempt: the last answer (judged by the caller), or its error raised."""
    return state.outcome.result()


@dataclass(frozen=True)
class _RetryAfterOrBackoff:
    base: float
    cap: float

    def __call__(self, state: Any) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            asked = retry_after_seconds(outcome.result().headers.get("Retry-After"))
            if asked is not None:
                return min(asked, self.cap)
        return min(self.base * 2 ** (state.attempt_number - 1), self.cap)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class RequestsTransport:
    """A transport for front doors without Airflow: requests with the connection's basic or
    digest auth and its extra headers, retried by the same policy."""

    def __init__(self, connection: SourceConnection, auth: str = "basic") -> None:
        import requests

        self.base_url = connection.base_url()
        self.session = requests.Session()
        if connection.login:
            kind = requests.auth.HTTPDigestAuth if auth == "digest" else requests.auth.HTTPBasicAuth
            self.session.auth = kind(connection.login, connection.password or "")
        self.session.headers.update(
            {k: str(v) for k, v in connection.extra.items() if isinstance(v, str | int)}
        )

    def __call__(
        self, method: str, endpoint: str, params: Mapping[str, Any], retry: HttpRetry,
        timeout: float,
    ) -> requests.Response:  # fmt: skip
        import tenacity

        url = self.base_url + "/" + endpoint.lstrip("/")
        as_query = dict(params) if method == "GET" else None
        as_body = dict(params) if method == "POST" else None

        def once() -> requests.Response:
            return self.session.request(method, url, params=as_query, json=as_body, timeout=timeout)

        return tenacity.Retrying(**retrying(retry))(once)


def transport_for(connection: SourceConnection, auth: str) -> HttpTransport:
    """The front door's transport for this connection (Airflow's hook), else requests."""
    if connection.http is not None:
        return connection.http(auth)
    return RequestsTransport(connection, auth)


def call(
    transport: HttpTransport,
    method: str,
    endpoint: str,
    params: Mapping[str, Any],
    retry: HttpRetry,
    timeout: float,
    label: str,
) -> requests.Response:
    """One request, retried; an answer that is still an error becomes a SourceError saying
    whether retrying the run can help."""
    import requests

    shown = urlsplit(endpoint).path or endpoint
    try:
        response = transport(method, endpoint, params, retry, timeout)
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise SourceUnavailableError(
            f"{label}: {type(exc).__name__} calling {shown} ({retry.attempts} attempts)"
        ) from None
    status = response.status_code
    if status in RETRY_STATUSES:
        raise SourceUnavailableError(
            f"{label}: the API answered HTTP {status} {response.reason} on {shown} after "
            f"{retry.attempts} attempts; the run will be retried later"
        )
    if status >= 400:
        raise SourceError(
            f"{label}: the API refused {shown} with HTTP {status} {response.reason}: check "
            "the spec's endpoint and params and the connection's credentials"
        )
    return response


def relative_endpoint(base_url: str, link: str, label: str) -> str:
    """A next-page link as an endpoint of the same API; a link to another host is refused
    (the connection's credentials must not be sent there)."""
    absolute = urljoin(base_url.rstrip("/") + "/", link)
    base, target = urlsplit(base_url), urlsplit(absolute)
    if (target.scheme, target.netloc) != (base.scheme, base.netloc):
        raise SourceError(
            f"{label}: the next page link points to another server ({target.netloc}); "
            "refusing to send the connection's credentials there"
        )
    rest = absolute[len(f"{base.scheme}://{base.netloc}") :]
    prefix = base.path.rstrip("/")
    return rest[len(prefix) :] if prefix and rest.startswith(prefix + "/") else rest
