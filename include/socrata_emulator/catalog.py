"""The Discovery API (`GET /api/catalog/v1`): paging, filters, visibility and the result shape."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from socrata_emulator.analytics import Usage
from socrata_emulator.models import Accounts, Dataset, bad_request, user_id
from socrata_emulator.wire import Request, Response, int_param, iso_time, json_response

if TYPE_CHECKING:
    from socrata_emulator.store import Store

MAX_LIMIT = 10000
NO_USE = Usage()


class CatalogEndpoints:
    """The catalog endpoint (mixed into PortalApi)."""

    store: Store
    accounts: Accounts
    domain: str

    def usage(self, asset_id: str | None = None) -> dict[str, Usage]:  # provided by PortalApi
        raise NotImplementedError

    def catalog(self, req: Request, user: str | None) -> Response:
        started = time.perf_counter()
        limit = int_param(req.param("limit"), 100, "limit")
        offset = int_param(req.param("offset"), 0, "offset")
        if limit > MAX_LIMIT:
            raise bad_request(f"limit {limit} exceeds the maximum of {MAX_LIMIT}")
        usage = self.usage()
        found = [ds for ds in self.store.datasets.values() if self._matches(req, user, ds)]
        found.sort(key=lambda d: (d.name.lower(), d.id))
        order = req.param("order")
        if order:
            found = _order_catalog(found, order, usage)
        host = req.headers.get("host", self.domain)
        results = [
            self._catalog_entry(ds, usage.get(ds.id, NO_USE), host)
            for ds in found[offset : offset + limit]
        ]
        ms = int((time.perf_counter() - started) * 1000)
        return json_response(
            {
                "results": results,
                "resultSetSize": len(found),
                "timings": {"serviceMillis": ms, "searchMillis": [ms, ms]},
            }
        )

    def _matches(self, req: Request, user: str | None, ds: Dataset) -> bool:
        if not self.accounts.can_read(user, ds):
            return False
        ids = req.all("ids")
        if ids and ds.id not in ids:
            return False
        only = [o.lower() for o in req.all("only")]
        if only and not {"dataset", "datasets"} & set(only):
            return False
        attribution = req.param("attribution")
        if attribution and (ds.attribution or "") != attribution:
            return False
        cats = req.all("categories")
        if cats and ds.category not in cats:
            return False
        tags = req.all("tags")
        if tags and not set(tags) & set(ds.tags):
            return False
        for flag, value in (("public", ds.public), ("published", ds.published)):
            want = req.param(flag)
            if want is not None and (want.lower() == "true") != value:
                return False
        q = (req.param("q") or "").lower().strip()
        if q:
            text = " ".join([ds.name, ds.description or "", *ds.tags]).lower()
            return all(word in text for word in q.split())
        return True

    def _catalog_entry(self, ds: Dataset, u: Usage, host: str) -> dict[str, Any]:
        cols = sorted(ds.columns, key=lambda c: c.position)
        domain_metadata = [
            {"key": f"{fs}_{name}".replace(" ", "-"), "value": value}
            for fs, fields in (ds.custom_fields or {}).items()
            if isinstance(fields, dict)
            for name, value in fields.items()
        ]
        updated = max(ds.rowsUpdatedAt, ds.viewLastModified)
        return {
            "resource": {
                "name": ds.name,
                "id": ds.id,
                "parent_fxf": [],
                "description": ds.description or "",
                "attribution": ds.attribution,
                "attribution_link": ds.attributionLink,
                "contact_email": None,
                "type": "dataset",
                "updatedAt": iso_time(updated),
                "createdAt": iso_time(ds.createdAt),
                "metadata_updated_at": iso_time(ds.viewLastModified),
                "data_updated_at": iso_time(ds.rowsUpdatedAt),
                "page_views": {
                    "page_views_last_week": u.views_last_week,
                    "page_views_last_month": u.views_last_month,
                    "page_views_total": u.views,
                },
                "download_count": u.downloads,
                "columns_field_name": [c.fieldName for c in cols],
                "columns_name": [c.name for c in cols],
                "columns_datatype": [c.dataTypeName for c in cols],
                "columns_description": [c.description for c in cols],
                "provenance": "official",
                "publication_date": iso_time(ds.createdAt),
            },
            "classification": {
                "categories": [],
                "tags": [],
                "domain_category": ds.category,
                "domain_tags": list(ds.tags),
                "domain_metadata": domain_metadata,
            },
            "metadata": {"domain": self.domain, "license": ds.licenseId or ""},
            "permalink": f"http://{host}/d/{ds.id}",
            "link": f"http://{host}/{_slug(ds.category)}/{_slug(ds.name)}/{ds.id}",
            "owner": {
                "id": user_id(ds.owner),
                "user_type": "interactive",
                "display_name": ds.owner,
            },
            "creator": {"id": user_id(ds.owner), "display_name": ds.owner},
        }


def _slug(text: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text or "dataset").strip("-")


def _order_catalog(found: list[Dataset], order: str, usage: dict[str, Usage]) -> list[Dataset]:
    key_name, _, direction = order.partition(" ")
    keys: dict[str, Callable[[Dataset], Any]] = {
        "name": lambda d: d.name.lower(),
        "createdAt": lambda d: d.createdAt,
        "updatedAt": lambda d: max(d.rowsUpdatedAt, d.viewLastModified),
        "page_views_total": lambda d: usage.get(d.id, NO_USE).views,
        "relevance": lambda d: 0,
    }
    if key_name not in keys:
        raise bad_request(f"order {key_name!r} is not one of {', '.join(keys)}")
    return sorted(found, key=keys[key_name], reverse=direction.strip().upper() == "DESC")
