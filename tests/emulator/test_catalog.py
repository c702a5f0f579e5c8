"""Catalog (Discovery API) shape, paging, filters and visibility."""

from __future__ import annotations

import requests

from tests.emulator.support import make_dataset


def test_catalog_result_shape(owner, anon):
    ds = make_dataset(
        owner,
        "Catalog shape",
        public=True,
        description="Shape test",
        category="Health and Human Services",
        tags=["overdose"],
    )
    owner.update_metadata(
        ds,
        {
            "attribution": "OCME",
            "licenseId": "PUBLIC_DOMAIN",
            "metadata": {"custom_fields": {"Dataset Information": {"Agency": "OCME"}}},
        },
    )
    (entry,) = anon.datasets(ids=[ds])
    res = entry["resource"]
    assert res["id"] == ds and res["name"] == "Catalog shape" and res["type"] == "dataset"
    assert res["description"] == "Shape test" and res["attribution"] == "OCME"
    assert res["columns_field_name"][:3] == ["record_id", "town", "deaths"]
    assert res["columns_datatype"][:3] == ["text", "text", "number"]
    assert res["columns_description"][1] == "CT town"
    assert res["page_views"] == {
        "page_views_last_week": 0,
        "page_views_last_month": 0,
        "page_views_total": 0,
    }
    assert res["download_count"] == 0
    for key in ("updatedAt", "createdAt", "data_updated_at", "metadata_updated_at"):
        assert res[key].endswith("Z") and res[key][:2] == "20"
    cls = entry["classification"]
    assert cls["domain_category"] == "Health and Human Services"
    assert cls["domain_tags"] == ["overdose"]
    assert cls["domain_metadata"] == [{"key": "Dataset-Information_Agency", "value": "OCME"}]
    assert entry["metadata"] == {"domain": "data.ct.gov", "license": "PUBLIC_DOMAIN"}
    assert entry["permalink"].endswith(f"/d/{ds}")
    assert entry["owner"]["display_name"] == "owner@ct.gov"
    page = requests.get(entry["permalink"], timeout=10)
    assert page.status_code == 200 and "Catalog shape" in page.text


def test_catalog_paging_ids_and_filters(owner, anon, emu):
    made = [make_dataset(owner, f"Paging {i:02d}", public=True) for i in range(7)]
    made_private = make_dataset(owner, "Paging private")
    session = requests.Session()
    url = f"{emu.url}/api/catalog/v1"
    body = session.get(url, params={"ids": made, "limit": 3, "offset": 0}, timeout=10).json()
    assert body["resultSetSize"] == 7 and len(body["results"]) == 3
    seen = []
    for offset in range(0, 7, 3):
        page = session.get(
            url, params={"ids": made, "limit": 3, "offset": offset}, timeout=10
        ).json()
        seen += [r["resource"]["id"] for r in page["results"]]
    assert sorted(seen) == sorted(made) and len(seen) == 7
    assert "timings" in body
    # sodapy pages through the whole result set itself
    assert sorted(r["resource"]["id"] for r in anon.datasets(ids=made + [made_private])) == sorted(
        made
    )
    q = session.get(url, params={"q": "paging 03"}, timeout=10).json()
    assert [r["resource"]["name"] for r in q["results"]] == ["Paging 03"]
    assert (
        session.get(url, params={"only": "charts", "ids": made}, timeout=10).json()["resultSetSize"]
        == 0
    )
    assert session.get(url, params={"limit": 10001}, timeout=10).status_code == 400


def test_catalog_visibility(owner, other, admin, anon):
    private = make_dataset(owner, "Only mine")
    assert anon.datasets(ids=[private]) == []
    assert other.datasets(ids=[private]) == []
    assert [r["resource"]["id"] for r in owner.datasets(ids=[private])] == [private]
    assert [r["resource"]["id"] for r in admin.datasets(ids=[private])] == [private]
