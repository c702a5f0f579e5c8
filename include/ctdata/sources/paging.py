"""An HTTP API read page by page, in the paging style its spec declares (dlt-style: a
generator of pages, so later steps may stream them).

Styles: `none` (one answer), `offset` (offset + limit), `page` (page number + size),
`next_link` (the next page's URL in the body), `link_header` (RFC 8288 `Link: <...>;
rel="next"`), `cursor` (an opaque cursor in the body, sent back as a parameter). A page ends
the read when it is empty or names no next page; a next link or cursor seen before is a loop
and an error. Each page is retried on its own (ctdata.sources.http); a page that still fails
fails the whole read, and with `total_path` the count read must equal the API's total, so a
run never publishes part of the data.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ctdata.errors import SourceError
from ctdata.sources.http import HttpTransport, call, relative_endpoint

if TYPE_CHECKING:
    import pandas as pd
    import requests

    from ctdata.specs.sources import HttpSource


def read_pages(
    source: HttpSource, transport: HttpTransport, base_url: str, label: str
) -> Iterator[pd.DataFrame]:
    """Each page's records as a frame, in order; checks the total at the end."""
    import pandas as pd

    paging = source.paging
    read = 0
    total: Any = None
    for number, response in enumerate(_responses(source, transport, base_url, label)):
        if number >= paging.max_pages:
            raise SourceError(
                f"{label}: more than {paging.max_pages} pages: raise paging.max_pages"
            )
        if source.format == "csv":
            frame = pd.read_csv(io.StringIO(response.text))
            read += len(frame)
            if len(frame):
                yield frame
            continue
        payload = _json(response, label)
        if paging.total_path and total is None:
            total = dotted(payload, paging.total_path)
        records = records_at(payload, source.records_path, label)
        read += len(records)
        if records:
            yield pd.DataFrame.from_records(records)
    if total is not None and int(total) != read:
        raise SourceError(
            f"{label}: read {read:,} records but the API says {int(total):,} "
            f"({paging.total_path}); the data changed while it was paged, or pages were "
            "skipped: nothing is published from a partial read"
        )


def _responses(
    source: HttpSource, transport: HttpTransport, base_url: str, label: str
) -> Iterator[requests.Response]:
    paging = source.paging
    style = paging.style

    def get(endpoint: str, params: dict[str, Any]) -> requests.Response:
        return call(transport, source.method, endpoint, params, source.retry,
                    source.timeout_seconds, label)  # fmt: skip

    params: dict[str, Any] = dict(source.params)
    if style == "none":
        yield get(source.endpoint, params)
        return
    if style in ("offset", "page"):
        position = 0 if style == "offset" else paging.first_page
        while True:
            key = paging.offset_param if style == "offset" else paging.page_param
            page = {**params, paging.size_name: paging.page_size, key: position}
            response = get(source.endpoint, page)
            yield response
            if not _has_records(response, source, label):
                return
            position += paging.page_size if style == "offset" else 1
        return
    seen: set[str] = set()
    endpoint: str | None = source.endpoint
    first = {**params, paging.size_name: paging.page_size} if paging.size_param else params
    response = get(source.endpoint, first)
    while True:
        yield response
        following = _following(response, source, label)
        if following is None or not _has_records(response, source, label):
            return
        if following in seen:
            raise SourceError(f"{label}: the API sent the same next page twice ({following})")
        seen.add(following)
        if style == "cursor":
            response = get(source.endpoint, {**first, paging.cursor_param: following})
        else:
            endpoint = relative_endpoint(base_url, following, label)
            response = get(endpoint, {})


def _following(response: requests.Response, source: HttpSource, label: str) -> str | None:
    """The next link or cursor the answer gives (None: this was the last page)."""
    paging = source.paging
    if paging.style == "link_header":
        link = response.links.get("next", {}).get("url")
        return link or None
    path = paging.next_path if paging.style == "next_link" else paging.cursor_path
    value = dotted(_json(response, label), path)
    return None if value in (None, "", False) else str(value)


def _has_records(response: requests.Response, source: HttpSource, label: str) -> bool:
    if source.format == "csv":
        return len(response.text.strip().splitlines()) > 1
    return bool(records_at(_json(response, label), source.records_path, label))


def _json(response: requests.Response, label: str) -> Any:
    cached = getattr(response, "_ctdata_json", None)
    if cached is not None:
        return cached
    try:
        payload = response.json()
    except ValueError:
        raise SourceError(f"{label}: the API's answer is not JSON") from None
    response._ctdata_json = payload  # type: ignore[attr-defined]
    return payload


def dotted(payload: Any, path: str) -> Any:
    """The value at a dotted path of a JSON answer, or None."""
    for key in path.split("."):
        if not isinstance(payload, dict) or key not in payload:
            return None
        payload = payload[key]
    return payload


def records_at(payload: Any, records_path: str | None, label: str) -> list[dict[str, Any]]:
    for key in records_path.split(".") if records_path else []:
        if not isinstance(payload, dict) or key not in payload:
            raise SourceError(f"{label}: answer has no {key!r} along records_path {records_path!r}")
        payload = payload[key]
    if not isinstance(payload, list):
        raise SourceError(f"{label}: expected a list of records, got {type(payload).__name__}")
    return payload
