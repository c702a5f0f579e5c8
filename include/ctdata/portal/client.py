"""Socrata client: real sodapy underneath, one retry policy around every request.

Every call goes through `SocrataClient._call`, which retries what retrying can fix (429 honouring
Retry-After, 5xx, timeouts, dropped connections) with exponential backoff and jitter inside a
bounded total time, and turns every other answer into a `PortalError` carrying the portal's own
message. Writes that are not idempotent (appends) are never retried blindly: an ambiguous failure
(the request may have been applied) raises `AmbiguousWriteError` so the caller can check first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import msgspec
import requests
from requests.adapters import HTTPAdapter
from sodapy import Socrata
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_before_delay

from ctdata.errors import (
    AmbiguousWriteError,
    PortalError,
    PortalRefusedError,
    PortalUnavailableError,
)
from ctdata.portal.attachments import AttachmentResult, upload_attachment
from ctdata.portal.connection import PortalConnection
from ctdata.portal.schema import PortalColumn

T = TypeVar("T")

CATALOG_PATH = "/api/catalog/v1"
_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504, 520, 522, 524})
_TRANSIENT_ERRORS = (
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.JSONDecodeError,  # a body cut short by a dropped connection
)


@dataclass
class ClientStats:
    """Counters the publishing engine reports (requests include retried attempts)."""

    requests: int = 0
    retries: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff parameters: wait = min(cap, base * 2**attempt) * jitter, within max_seconds total."""

    max_seconds: float = 600.0
    base_seconds: float = 0.5
    cap_seconds: float = 60.0


def _status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) if response is not None else None


def retry_after_seconds(exc: BaseException) -> float | None:
    """Seconds the portal asked us to wait (Retry-After as seconds or an HTTP date)."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def is_transient(exc: BaseException) -> bool:
    """Would a later identical request plausibly succeed?"""
    if isinstance(exc, requests.exceptions.HTTPError):
        return _status_of(exc) in _RETRYABLE_STATUS
    return isinstance(exc, _TRANSIENT_ERRORS)


def is_safe_to_repeat(exc: BaseException) -> bool:
    """Failures that prove the request was not applied (so even an append may be resent)."""
    if isinstance(exc, requests.exceptions.HTTPError):
        return _status_of(exc) == 429
    return isinstance(exc, requests.exceptions.ConnectTimeout)


def portal_message(exc: BaseException) -> str:
    """The portal's own explanation (its JSON `message`), else the HTTP reason."""
    response = getattr(exc, "response", None)
    if response is None:
        return f"{type(exc).__name__}: {exc}"
    try:
        body = response.json()
        message = body.get("message") if isinstance(body, dict) else None
    except ValueError:
        message = None
    if not message:
        message = (response.text or "").strip()[:300] or response.reason
    return f"HTTP {response.status_code}: {message}"


class SocrataClient:
    """A sodapy client with retries, counters, paged reads and pre-serialized uploads."""

    def __init__(
        self,
        connection: PortalConnection,
        *,
        timeout: float = 60,
        max_retry_seconds: float = 600,
        backoff_base_seconds: float = 0.5,
        backoff_cap_seconds: float = 60,
        pool_size: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connection = connection
        self.policy = RetryPolicy(max_retry_seconds, backoff_base_seconds, backoff_cap_seconds)
        self.stats = ClientStats()
        self._sleep = sleep
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        prefix = f"{connection.scheme}://"
        self.soda = Socrata(
            connection.domain,
            connection.app_token,
            username=connection.username,
            password=connection.password,
            session_adapter={"prefix": prefix, "adapter": adapter},
            timeout=timeout,
        )
        self.soda.session.hooks["response"].append(self._count_response)

    def __repr__(self) -> str:
        return f"SocrataClient({self.connection!r})"

    def close(self) -> None:
        self.soda.close()

    def __enter__(self) -> SocrataClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one code path -------------------------------------------------------------------

    def _count_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.stats.bytes_received += len(response.content or b"")

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(
            self.policy.cap_seconds, self.policy.base_seconds * 2 ** (state.attempt_number - 1)
        )
        wait = backoff * random.uniform(0.5, 1.0)
        asked = retry_after_seconds(exc) if exc is not None else None
        if asked is not None:
            wait = max(wait, asked)
        return wait

    def _call(self, method: str, path: str, send: Callable[[], T], *, idempotent: bool = True) -> T:
        """Run `send` under the retry policy; map failures to PortalError (never credentials)."""

        def retryable(exc: BaseException) -> bool:
            if idempotent:
                return is_transient(exc)
            return is_safe_to_repeat(exc)

        def attempt() -> T:
            self.stats.requests += 1
            return send()

        def before_sleep(state: RetryCallState) -> None:
            self.stats.retries += 1

        retrying = Retrying(
            retry=retry_if_exception(retryable),
            wait=self._wait,
            stop=stop_before_delay(self.policy.max_seconds),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        started = time.monotonic()
        try:
            return retrying(attempt)
        except (requests.exceptions.RequestException, ValueError) as exc:
            elapsed = time.monotonic() - started
            where = f"{method} {path}"
            if not idempotent and is_transient(exc) and not is_safe_to_repeat(exc):
                raise AmbiguousWriteError(
                    f"{where} failed ({portal_message(exc)}); the portal may or may not have "
                    "applied it, so it was not resent blindly."
                ) from None
            if is_transient(exc):
                raise PortalUnavailableError(
                    f"{where} still failing after {self.stats_attempts(retrying)} attempts over "
                    f"{elapsed:.0f} s ({portal_message(exc)}). The portal is throttling or down: "
                    "rerun later; completed chunks are not sent again."
                ) from None
            raise PortalRefusedError(
                f"{where} was refused: {portal_message(exc)}", status=_status_of(exc)
            ) from None

    @staticmethod
    def stats_attempts(retrying: Retrying) -> int:
        return int(retrying.statistics.get("attempt_number", 1))

    def _request(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> Any:
        """A raw request through sodapy's session handling (used for bytes and paths it lacks)."""
        body = kwargs.get("data")
        size = len(body) if isinstance(body, bytes | str) else 0

        def send() -> Any:
            self.stats.bytes_sent += size
            return self.soda._perform_request(method, path, **kwargs)

        return self._call(method.upper(), path, send, idempotent=idempotent)

    # -- metadata ----------------------------------------------------------------------------

    def get_metadata(self, dataset_id: str) -> dict[str, Any]:
        path = f"/api/views/{dataset_id}.json"
        return self._call("GET", path, lambda: self.soda.get_metadata(dataset_id))

    def update_metadata(self, dataset_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        path = f"/api/views/{dataset_id}.json"
        size = len(msgspec.json.encode(fields))

        def send() -> Any:
            self.stats.bytes_sent += size
            return self.soda.update_metadata(dataset_id, fields)

        return self._call("PUT", path, send)

    def add_column(self, dataset_id: str, column: PortalColumn) -> dict[str, Any]:
        """Add one column (POST /api/views/{id}/columns.json)."""
        body = msgspec.json.encode(column.to_socrata())
        headers = {"Content-Type": "application/json"}
        path = f"/api/views/{dataset_id}/columns.json"
        return self._request("post", path, data=body, headers=headers)

    def delete_column(self, dataset_id: str, column_id: int) -> None:
        """Remove one column and its values (DELETE /api/views/{id}/columns/{column id}.json)."""
        self._request("delete", f"/api/views/{dataset_id}/columns/{column_id}.json")

    def create_dataset(
        self,
        name: str,
        columns: list[PortalColumn],
        *,
        row_identifier: str | None = None,
        description: str = "",
        **metadata: Any,
    ) -> dict[str, Any]:
        """Create a dataset (a draft until `publish`); returns its metadata with its id."""
        kwargs: dict[str, Any] = {
            "description": description,
            "columns": [c.to_socrata() for c in columns],
            "new_backend": True,
            **metadata,
        }
        if row_identifier:
            kwargs["row_identifier"] = row_identifier
        # Creating twice would make two datasets: never repeat after an ambiguous failure.
        return self._call(
            "POST", "/api/views.json", lambda: self.soda.create(name, **kwargs), idempotent=False
        )

    def publish(self, dataset_id: str) -> dict[str, Any]:
        path = f"/api/views/{dataset_id}/publication.json"
        return self._call("POST", path, lambda: self.soda.publish(dataset_id))

    def set_permission(self, dataset_id: str, public: bool) -> None:
        path = f"/api/views/{dataset_id}.json?method=setPermission"
        value = "public" if public else "private"
        self._call("PUT", path, lambda: self.soda.set_permission(dataset_id, value))

    def upload_attachment(
        self, dataset_id: str, filename: str, content: bytes, **options: Any
    ) -> AttachmentResult:
        """Attach a file (a data dictionary...), one per file name: ctdata.portal.attachments."""
        return upload_attachment(self, dataset_id, filename, content, **options)

    # -- rows --------------------------------------------------------------------------------

    def upsert(
        self, dataset_id: str, rows_json: bytes | list[dict[str, Any]], *, idempotent: bool = True
    ) -> dict[str, Any]:
        """POST rows (a JSON array, pre-serialized or not). Pass idempotent=False for appends."""
        return self._write("post", dataset_id, rows_json, idempotent)

    def replace(
        self, dataset_id: str, rows: bytes | list[dict[str, Any]], *, idempotent: bool = True
    ) -> dict[str, Any]:
        """PUT rows: the dataset then holds exactly these rows."""
        return self._write("put", dataset_id, rows, idempotent)

    def _write(
        self, method: str, dataset_id: str, rows: bytes | list[dict[str, Any]], idempotent: bool
    ) -> dict[str, Any]:
        body = rows if isinstance(rows, bytes) else msgspec.json.encode(rows)
        headers = {"Content-Type": "application/json"}
        path = f"/resource/{dataset_id}.json"
        result = self._request(method, path, data=body, headers=headers, idempotent=idempotent)
        return result if isinstance(result, dict) else {}

    def delete_row(self, dataset_id: str, row_id: str) -> None:
        path = f"/resource/{dataset_id}/{row_id}.json"
        self._call("DELETE", path, lambda: self.soda.delete(dataset_id, row_id=row_id))

    def read_rows(
        self,
        dataset_id: str,
        *,
        select: str | None = None,
        where: str | None = None,
        group: str | None = None,
        order: str = ":id",
        page_size: int = 50_000,
    ) -> Iterator[dict[str, Any]]:
        """All matching rows (or groups, with `group` and aggregates in `select`), paged with
        $limit/$offset in a stable order."""
        offset = 0
        path = f"/resource/{dataset_id}.json"
        while True:
            page = self._call(
                "GET",
                path,
                lambda off=offset: self.soda.get(
                    dataset_id,
                    select=select,
                    where=where,
                    group=group,
                    order=order,
                    limit=page_size,
                    offset=off,
                ),
            )
            if not isinstance(page, list):
                raise PortalError(f"GET {path} returned {type(page).__name__}, expected rows.")
            yield from page
            if len(page) < page_size:
                return
            offset += page_size

    def count_rows(self, dataset_id: str) -> int:
        """Number of rows in the dataset (SoQL count(*))."""
        path = f"/resource/{dataset_id}.json"
        page = self._call("GET", path, lambda: self.soda.get(dataset_id, select="count(*)"))
        row = page[0] if isinstance(page, list) and page else {}
        value = next(iter(row.values()), 0) if isinstance(row, dict) else 0
        return int(value)

    # -- discovery ---------------------------------------------------------------------------

    def catalog(
        self,
        *,
        domains: list[str] | None = None,
        ids: list[str] | None = None,
        attribution: str | None = None,
        page_size: int = 1000,
    ) -> Iterator[dict[str, Any]]:
        """Every catalog entry matching the filters (the Discovery API), page by page."""
        base: list[tuple[str, Any]] = [
            ("domains", d) for d in (domains or [self.connection.domain])
        ]
        base += [("ids", i) for i in ids or []]
        if attribution:
            base.append(("attribution", attribution))
        offset = 0
        while True:
            params = [*base, ("limit", page_size), ("offset", offset)]
            body = self._request("get", CATALOG_PATH, params=params)
            results = body.get("results", []) if isinstance(body, dict) else []
            yield from results
            total = int(body.get("resultSetSize", 0)) if isinstance(body, dict) else 0
            offset += len(results)
            if not results or len(results) < page_size or offset >= total:
                return
