"""An ArcGIS REST feature layer, read through its `/query` operation in pages.

First the layer's description (`?f=json`): its object id field (pages are ordered by it, so
they neither overlap nor skip), its `maxRecordCount` (a page never asks for more) and whether
it pages at all. Then `/query` with `where`, `outFields`, `outSR=4326`, `f=geojson`,
`resultOffset` and `resultRecordCount`, until an answer no longer says
`exceededTransferLimit`. ArcGIS reports errors inside a 200 answer (`{"error": {...}}`); they
become SourceErrors, retryable when the server says it is busy or failing. The count the layer
gives for the same `where` (`returnCountOnly`) is checked at the end: no partial read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ctdata.errors import SourceError, SourceUnavailableError
from ctdata.sources.geo import WGS84, features_frame
from ctdata.sources.http import HttpTransport, call

if TYPE_CHECKING:
    import pandas as pd

    from ctdata.specs.sources import ArcGisSource


def read_layer(
    source: ArcGisSource, transport: HttpTransport, label: str
) -> Iterator[pd.DataFrame]:
    layer = source.layer.strip("/")
    info = _get(source, transport, layer, {"f": "json"}, label)
    if "query" not in str(info.get("capabilities", "query")).lower():
        raise SourceError(f"{label}: layer {layer} does not allow queries (capabilities)")
    id_field = info.get("objectIdField") or _object_id_field(info)
    page_size = min(source.page_size, int(info.get("maxRecordCount") or source.page_size))
    paging = (info.get("advancedQueryCapabilities") or {}).get("supportsPagination", True)
    base = {
        "where": source.where,
        "outFields": ",".join(source.out_fields),
        "outSR": WGS84.split(":")[1],
        "f": "geojson",
    }
    expected = _get(
        source,
        transport,
        f"{layer}/query",
        {"where": source.where, "returnCountOnly": "true", "f": "json"},
        label,
    )
    offset = 0
    while True:
        params = {**base, "resultOffset": offset, "resultRecordCount": page_size}
        if id_field:
            params["orderByFields"] = id_field
        if not paging:
            params = base
        page = _get(source, transport, f"{layer}/query", params, label)
        features = page.get("features") or []
        if features:
            yield features_frame(features, crs=None, geometry_field=source.geometry_field,
                                 rename=source.rename, label=label)  # fmt: skip
        offset += len(features)
        more = page.get("exceededTransferLimit") or (page.get("properties") or {}).get(
            "exceededTransferLimit"
        )
        if not more or not features:
            break
        if not paging:
            raise SourceError(
                f"{label}: layer {layer} holds more than {len(features)} features but does "
                "not support pagination: narrow 'where' into several datasets"
            )
    count = expected.get("count")
    if isinstance(count, int) and count != offset:
        raise SourceError(
            f"{label}: read {offset:,} features but layer {layer} counts {count:,} for "
            f"where={source.where!r}; it changed while it was paged: nothing is published "
            "from a partial read"
        )


def _object_id_field(info: dict[str, Any]) -> str | None:
    for field in info.get("fields") or []:
        if field.get("type") == "esriFieldTypeOID":
            return str(field.get("name"))
    return None


def _get(
    source: ArcGisSource, transport: HttpTransport, endpoint: str, params: dict[str, Any],
    label: str,
) -> dict[str, Any]:  # fmt: skip
    """One request; an error ArcGIS reports inside a 200 answer as busy or failing is retried
    like an HTTP one."""
    import tenacity

    retry = source.retry
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(_Busy),
        wait=tenacity.wait_exponential(
            multiplier=retry.backoff_seconds, max=retry.max_wait_seconds
        ),
        stop=tenacity.stop_after_attempt(retry.attempts),
        reraise=True,
    )(_get_once, source, transport, endpoint, params, label)


class _Busy(SourceUnavailableError):
    """ArcGIS said, inside a 200 answer, that it is busy or failing."""


def _get_once(
    source: ArcGisSource, transport: HttpTransport, endpoint: str, params: dict[str, Any],
    label: str,
) -> dict[str, Any]:  # fmt: skip
    response = call(transport, "GET", endpoint, params, source.retry, source.timeout_seconds,
                    label)  # fmt: skip
    try:
        payload = response.json()
    except ValueError:
        raise SourceError(f"{label}: {endpoint} did not answer JSON") from None
    error = payload.get("error") if isinstance(payload, dict) else None
    if error:
        code = int(error.get("code") or 0)
        kind = _Busy if code in (429, 500, 502, 503, 504) else SourceError
        raise kind(
            f"{label}: ArcGIS answered error {code} on {endpoint}: {error.get('message')} "
            f"{'; '.join(map(str, error.get('details') or []))}".rstrip()
        )
    if not isinstance(payload, dict):
        raise SourceError(f"{label}: {endpoint} answered {type(payload).__name__}, not an object")
    return payload
