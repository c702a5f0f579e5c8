"""The private "Site Analytics: Asset Access" dataset: long-form rows for every access, the
counters the views and the catalog derive from it, and who may read it."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import requests

from socrata_emulator.analytics import COLUMNS, DATASET_NAME, SiteAnalytics
from socrata_emulator.store import Store
from socrata_emulator.testing import run_emulator, sodapy_client
from tests.emulator.support import ADMIN, OTHER, TOKEN, make_dataset

ANALYTICS = "site-anly"
FIELDS = ["timestamp", "asset_uid", "asset_name", "asset_type", "access_type", "user_segment"]


def _visit(url: str, times: int) -> None:
    session = requests.Session()
    for _ in range(times):
        assert session.get(url, timeout=10).status_code == 200


def test_every_access_is_a_long_form_row_and_feeds_views_and_catalog(owner, anon, admin, emu):
    ds = make_dataset(owner, "Counted", public=True, category="Health and Human Services")
    owner.upsert(ds, [{"record_id": "a"}])
    _visit(f"{emu.url}/d/{ds}", 4)  # primer page
    _visit(f"{emu.url}/Health-and-Human-Services/Counted/{ds}/data", 2)  # grid
    _visit(f"{emu.url}/api/views/{ds}/rows.csv?accessType=DOWNLOAD", 3)
    _visit(f"{emu.url}/api/views/{ds}/rows.csv", 1)  # the export link without the parameter
    for i in range(5):
        anon.get(ds) if i % 2 else anon.get(ds, content_type="csv")
    owner.get(ds)  # a signed-in API read

    rows = admin.get(ANALYTICS, where=f"asset_uid = '{ds}'", order="access_type, user_segment")
    assert {tuple(sorted(r)) for r in rows} == {tuple(sorted([*FIELDS, "value"]))}
    counted = Counter()
    for row in rows:
        counted[(row["access_type"], row["user_segment"])] += int(row["value"])
        assert row["asset_type"] == "dataset" and row["asset_name"] == "Counted"
        hour = dt.datetime.fromisoformat(row["timestamp"])
        assert (hour.minute, hour.second) == (0, 0)  # one bucket per hour
        assert abs(dt.datetime.now(dt.UTC).replace(tzinfo=None) - hour) < dt.timedelta(hours=1)
    assert counted == {
        ("primer page view", "anonymous"): 4,
        ("grid view", "anonymous"): 2,
        ("download", "anonymous"): 4,
        ("API read", "anonymous"): 5,
        ("API read", "site_member"): 1,
    }
    view = anon.get_metadata(ds)
    assert (view["viewCount"], view["downloadCount"]) == (6, 4)
    (entry,) = anon.datasets(ids=[ds])
    assert entry["resource"]["page_views"] == {
        "page_views_last_week": 6,
        "page_views_last_month": 6,
        "page_views_total": 6,
    }
    assert entry["resource"]["download_count"] == 4
    # reading the analytics dataset is not itself counted
    assert admin.get(ANALYTICS, where=f"asset_uid = '{ANALYTICS}'") == []


def test_a_daily_series_is_one_grouped_query(owner, anon, admin, emu):
    ds = make_dataset(owner, "Daily series", public=True)
    for _ in range(3):
        anon.get(ds)
    _visit(f"{emu.url}/d/{ds}", 2)
    series = admin.get(
        ANALYTICS,
        select="date_trunc_ymd(timestamp) AS day, access_type, sum(value) AS n",
        where=f"asset_uid = '{ds}'",
        group="day, access_type",
        order="access_type",
    )
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert series == [
        {"day": f"{today}T00:00:00.000", "access_type": "API read", "n": "3"},
        {"day": f"{today}T00:00:00.000", "access_type": "primer page view", "n": "2"},
    ]


def test_analytics_is_private_like_a_system_dataset(owner, other, admin, anon, emu):
    for client, status in ((anon, 401), (other, 403)):
        with pytest.raises(requests.HTTPError) as refused:
            client.get(ANALYTICS)
        assert refused.value.response.status_code == status
    view = admin.get_metadata(ANALYTICS)
    assert view["name"] == DATASET_NAME and view["grants"] == []
    assert [c["fieldName"] for c in view["columns"]] == [c[0] for c in COLUMNS]
    named = {"q": "site analytics asset access"}
    assert [e["resource"]["id"] for e in admin.datasets(**named)] == [ANALYTICS]
    assert other.datasets(**named) == []


def test_refused_reads_are_not_counted(owner, admin, emu):
    ds = make_dataset(owner, "Private count")
    assert requests.get(f"{emu.url}/d/{ds}", timeout=10).status_code == 401
    owner.get(ds)
    assert owner.get_metadata(ds)["viewCount"] == 0
    rows = admin.get(ANALYTICS, where=f"asset_uid = '{ds}'", select="access_type, value")
    assert rows == [{"access_type": "API read", "value": "1"}]


def test_analytics_can_be_shared_with_an_account(tmp_path):
    with run_emulator(
        tmp_path,
        users=[":".join(OTHER)],
        admins=[":".join(ADMIN)],
        app_tokens=[TOKEN],
        analytics_viewers=[OTHER[0]],
    ) as emu:
        other = sodapy_client(emu, *OTHER, app_token=TOKEN)
        assert other.get(ANALYTICS) == []
        grants = other.get_metadata(ANALYTICS)["grants"]
        assert [g["type"] for g in grants] == ["viewer"] and "public" not in grants[0]["flags"]
        with pytest.raises(requests.HTTPError) as refused:
            other.upsert(ANALYTICS, [{"asset_uid": "abcd-1234", "value": 1}])
        assert refused.value.response.status_code == 403  # shared to read, not to write


def test_an_older_wide_analytics_dataset_is_replaced(tmp_path):
    store = Store(tmp_path)
    wide = [{"fieldName": f, "dataTypeName": "number"} for f in ("views", "downloads")]
    store.create({"name": "Old analytics", "columns": wide}, "admin@ct.gov", ANALYTICS)
    SiteAnalytics(store, ANALYTICS, "admin@ct.gov")
    ds = store.get(ANALYTICS)
    assert [c.fieldName for c in ds.columns] == [c[0] for c in COLUMNS]
    assert (ds.name, ds.public, ds.published) == (DATASET_NAME, False, True)
    store.close()
