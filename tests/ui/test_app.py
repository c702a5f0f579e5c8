"""The view's FastAPI app on its own (the access dependency stubbed): routes, scoping by the
agencies the dependency allows, filters, the overview's row limit, Data Docs outside a root."""

from __future__ import annotations

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from ctdata.monitoring.ledger import Ledger, RunKey
from ctdata.monitoring.views import Links
from ctdata.ui import app as ui_app
from ctdata.ui.app import Access, create_app


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.setenv("CTDATA_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    key = RunKey("ocme", "deaths_by_town", "ocme-twn7", "publish_ocme", "manual__1")
    ledger = Ledger()
    ledger.record_step(key, "publish", {"created": 5, "updated": 0, "deleted": 0, "bytes_sent": 9})
    ledger.record_step(key, "sync_metadata", {})
    ledger.dispose()
    who = {"access": Access("tester", frozenset({"ocme"}))}

    def access() -> Access:
        if who["access"] is None:
            raise HTTPException(401, "Not authenticated")
        return who["access"]

    app = create_app(
        access, links=lambda: Links("https://data.ct.gov", "http://af"), root="/ctdata"
    )
    return TestClient(app), who


def test_every_route_needs_the_access_dependency(client) -> None:
    http, who = client
    who["access"] = None
    for path in ("/", "/datasets/ocme-twn7", "/api/datasets", "/api/datasets/ocme-twn7",
                 "/api/overview", "/data-docs?page=x"):  # fmt: skip
        answer = http.get(path)
        assert answer.status_code == 401 and "ocme-twn7" not in answer.text, path


def test_scoped_to_the_allowed_agencies(client) -> None:
    http, _ = client
    rows = http.get("/api/datasets").json()["datasets"]
    assert {r["agency"] for r in rows} == {"ocme"}
    assert http.get("/api/datasets/opmt-wn01").status_code == 404
    assert http.get("/datasets/opmt-wn01").status_code == 404
    page = http.get("/datasets/ocme-twn7")
    assert (
        page.status_code == 200 and 'href="http://af/dags/publish_ocme/runs/manual__1"' in page.text
    )


def test_filters_and_the_overview_limit(client, monkeypatch) -> None:
    http, _ = client
    assert http.get("/api/datasets?status=overdue").json()["count"] == 1  # records, never published
    assert http.get("/api/datasets?category=Government").json()["count"] == 0
    monkeypatch.setattr(ui_app, "PAGE_ROWS", 1)
    limited = http.get("/")
    assert limited.text.count("data-key=") == 1 and 'id="show-all"' in limited.text
    assert http.get("/?show=all").text.count("data-key=") == 2


def test_data_docs_outside_the_kept_pages_are_refused(client) -> None:
    http, _ = client
    assert http.get("/data-docs?page=/etc/passwd").status_code == 404
