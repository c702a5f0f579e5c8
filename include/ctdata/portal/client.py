"""Socrata client: real sodapy underneath, one retry policy around every request.

Every call goes through `SocrataClient._call`, which retries what retrying can fix (429 honouring
Retry-After, 5xx, timeouts, dropped connections) with exponential backoff and jitter inside a
bounded total time, and turns every other answer into a `PortalError` carrying the portal's own
message. Writes that are not idempotent (appends) are never retried blindly: an ambiguous failure
(the request may have been applied) raises `AmbiguousWriteError` so the caller can check first.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import msgspec
import requests
from requests.adapters import HTTPAdapter
from sodapy import Socrata
from sodapy.utils import raise_for_status
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_before_delay

from ctdata.errors import (
    AmbiguousWriteError,
    PortalError,
    PortalRefusedError,
    PortalUnavailableError,
)
from ctdata.portal.attachments import AttachmentResult, upload_attachment
from ctdata.portal.connection import PortalConnection
from ctdata.portal.retry import (
    RetryPolicy,
    is_safe_to_repeat,
    is_transient,
    portal_message,
    retry_after_seconds,
    status_of,
)
from ctdata.portal.schema import PortalColumn

T = TypeVar("T")
log = logging.getLogger(__name__)
OUT_OF_DATE_HEADER = "X-SODA2-Data-Out-Of-Date"

CATALOG_PATH = "/api/catalog/v1"


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
class RowsPage:
    """One page of a SODA read; `out_of_date` is the portal's X-SODA2-Data-Out-Of-Date header
    (the read came from a copy that has not caught up with the latest writes)."""

    rows: list[dict[str, Any]]
    out_of_date: bool


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
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "%s %s failed (%s); trying again in %.1f s (attempt %d)",
                method, path, portal_message(exc) if exc else "?", wait, state.attempt_number + 1,
            )  # fmt: skip

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
                f"{where} was refused: {portal_message(exc)}", status=status_of(exc)
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

    def read_page(
        self,
        dataset_id: str,
        *,
        select: str | None = None,
        where: str | None = None,
        group: str | None = None,
        order: str | None = ":id",
        limit: int = 50_000,
        offset: int = 0,
    ) -> RowsPage:
        """One page of rows (SoQL), with whether the portal says the read is out of date.

        Goes through the session directly: sodapy's `get` returns the body only, and the
        out-of-date header is what tells a caller to wait before trusting what it read.
        """
        path = f"/resource/{dataset_id}.json"
        soql = {"$select": select, "$where": where, "$group": group, "$order": order,
                "$limit": limit, "$offset": offset}  # fmt: skip
        params = {k: v for k, v in soql.items() if v is not None}

        def send() -> RowsPage:
            response = self.soda.session.get(
                self.connection.base_url + path, params=params, timeout=self.soda.timeout
            )
            if response.status_code not in (200, 202):
                raise_for_status(response)
            rows = response.json()
            if not isinstance(rows, list):
                raise PortalError(f"GET {path} returned {type(rows).__name__}, expected rows.")
            stale = response.headers.get(OUT_OF_DATE_HEADER, "false").strip().lower() == "true"
            return RowsPage(rows, stale)

        return self._call("GET", path, send)

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
        $limit/$offset in a stable order. Out-of-date pages are not told apart: a reader that
        must see its own writes uses `read_page` (see ctdata.publishing.readback)."""
        offset = 0
        while True:
            page = self.read_page(dataset_id, select=select, where=where, group=group,
                                  order=order, limit=page_size, offset=offset)  # fmt: skip
            yield from page.rows
            if len(page.rows) < page_size:
                return
            offset += page_size

    def count_rows(self, dataset_id: str) -> int:
        """Number of rows in the dataset (SoQL count(*))."""
        return row_count(self.read_page(dataset_id, select="count(*)", order=None))

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


def row_count(page: RowsPage) -> int:
    """The number a `count(*)` read answered."""
    row = page.rows[0] if page.rows else {}
    value = next(iter(row.values()), 0) if isinstance(row, dict) else 0
    return int(value)
