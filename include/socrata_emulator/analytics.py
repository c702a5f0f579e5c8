"""The domain's system dataset "Site Analytics: Asset Access", kept the way a real Socrata
(Tyler Data & Insights) domain keeps it, and the counters the catalog and views derive from it.

Shape, from Tyler's support article "Site Analytics: Asset Access"
(support.socrata.com/hc/en-us/articles/360051223314) and rows read from real domains (e.g. the
fixture `tests/mock_metric_scgc.json` of usdot-its-jpo-data-portal/datahub-metrics-ingest): long
form, one row per hour, asset, access type and user segment, the number of accesses in `value`.
Like the real one it is private: readable by administrators and the accounts it is shared with.

How people reach a dataset here, and the access type each is counted as:
`/d/{id}` and `/{category}/{name}/{id}` (the primer page) -> "primer page view";
`/{category}/{name}/{id}/data` (the grid) -> "grid view";
`/api/views/{id}/rows.csv` (an export) -> "download"; `/resource/{id}.json|.csv` -> "API read".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from socrata_emulator.models import Dataset

if TYPE_CHECKING:
    from socrata_emulator.store import Store

DATASET_NAME = "Site Analytics: Asset Access"
COLUMNS = (
    ("timestamp", "Timestamp", "calendar_date", "Start of the hour (UTC) of the accesses"),
    ("asset_uid", "Asset UID", "text", "Four-by-four id of the asset accessed"),
    ("asset_name", "Asset Name", "text", "Name of the asset when it was accessed"),
    ("asset_type", "Asset Type", "text", "dataset, filter, chart, map, story, ..."),
    ("access_type", "Access Type", "text", "grid view, primer page view, download, API read, ..."),
    ("user_segment", "User Segment", "text", "anonymous, or site_member when signed in"),
    ("value", "Value", "number", "Number of accesses"),
)
GRID_VIEW = "grid view"
PRIMER_VIEW = "primer page view"
DOWNLOAD = "download"
API_READ = "API read"
PAGE_VIEWS = (GRID_VIEW, PRIMER_VIEW)


@dataclass(frozen=True)
class Usage:
    """One asset's totals, as the catalog (`page_views`, `download_count`) and views show them."""

    views: int = 0
    downloads: int = 0
    api_reads: int = 0
    views_last_week: int = 0
    views_last_month: int = 0


class SiteAnalytics:
    """Records every access to a dataset in the Asset Access dataset and sums it back."""

    def __init__(self, store: Store, dataset_id: str, owner: str, viewers: Iterable[str] = ()):
        self.store, self.dataset_id = store, dataset_id
        ds = store.datasets.get(dataset_id)
        if ds is not None and _field_names(ds) != [c[0] for c in COLUMNS]:
            store.delete(ds)  # a data dir from an older stand-in: start the counts afresh
            ds = None
        if ds is None:
            ds = self._create(owner)
        store.set_flags(ds, public=False, published=True, viewers=list(viewers))

    def _create(self, owner: str) -> Dataset:
        body = {
            "name": DATASET_NAME,
            "description": "How every asset of the domain is used: one row per hour, asset, "
            "access type and user segment, with the number of accesses.",
            "category": "Government",
            "columns": [
                {"fieldName": f, "name": n, "dataTypeName": t, "description": d}
                for f, n, t, d in COLUMNS
            ],
        }
        ds = self.store.create(body, owner, self.dataset_id)
        prefix = ds.id.replace("-", "_")
        with self.store.tx() as conn:
            conn.execute(
                f'CREATE UNIQUE INDEX "u_{prefix}_hour" ON {ds.table} '
                '("c_timestamp", "c_asset_uid", "c_access_type", "c_user_segment")'
            )
            conn.execute(f'CREATE INDEX "i_{prefix}_asset" ON {ds.table} ("c_asset_uid")')
        return ds

    def record(self, ds: Dataset, access_type: str, user: str | None) -> None:
        """Count one access to `ds` in the current hour (reads of this dataset are not counted)."""
        analytics = self.store.datasets.get(self.dataset_id)
        if analytics is None or ds.id == self.dataset_id:
            return
        now = dt.datetime.now(dt.UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        values = (
            now.strftime("%Y-%m-%dT%H:00:00.000"),
            ds.id,
            ds.name,
            "dataset",
            access_type,
            "anonymous" if user is None else "site_member",
            stamp,
            stamp,
        )
        with self.store.tx() as conn:
            conn.execute(
                f"INSERT INTO {analytics.table} (c_timestamp, c_asset_uid, c_asset_name, "
                "c_asset_type, c_access_type, c_user_segment, c_value, _created_at, _updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) "
                "ON CONFLICT (c_timestamp, c_asset_uid, c_access_type, c_user_segment) "
                "DO UPDATE SET c_value = c_value + 1, c_asset_name = excluded.c_asset_name, "
                "_updated_at = excluded._updated_at",
                values,
            )
            self.store._touch_rows(conn, analytics)

    def totals(self, asset_id: str | None = None) -> dict[str, Usage]:
        """Per asset: page views, downloads and API reads to date, page views of the last 7 and
        30 days (UTC)."""
        analytics = self.store.datasets.get(self.dataset_id)
        if analytics is None:
            return {}
        today = dt.datetime.now(dt.UTC).date()
        week = (today - dt.timedelta(days=6)).isoformat()
        month = (today - dt.timedelta(days=29)).isoformat()
        views = "c_access_type IN (?, ?)"
        sql = (
            f"SELECT c_asset_uid, SUM(CASE WHEN {views} THEN c_value ELSE 0 END), "
            "SUM(CASE WHEN c_access_type = ? THEN c_value ELSE 0 END), "
            "SUM(CASE WHEN c_access_type = ? THEN c_value ELSE 0 END), "
            f"SUM(CASE WHEN {views} AND c_timestamp >= ? THEN c_value ELSE 0 END), "
            f"SUM(CASE WHEN {views} AND c_timestamp >= ? THEN c_value ELSE 0 END) "
            f"FROM {analytics.table} "
            + ("WHERE c_asset_uid = ? " if asset_id else "")
            + "GROUP BY c_asset_uid"
        )
        args: list[object] = [*PAGE_VIEWS, DOWNLOAD, API_READ, *PAGE_VIEWS, week, *PAGE_VIEWS]
        args += [month] + ([asset_id] if asset_id else [])
        with self.store.lock:
            rows = self.store.conn.execute(sql, args).fetchall()
        return {r[0]: Usage(*(int(v or 0) for v in r[1:])) for r in rows}


def _field_names(ds: Dataset) -> list[str]:
    return [c.fieldName for c in sorted(ds.columns, key=lambda c: c.position)]
