"""The view's FastAPI app on its own (the access dependency stubbed): routes, scoping by the
agencies the dependency allows, filters, the overview's row limit, Data Docs outside a root."""

from __future__ import annotations

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from ctdata.airflow.runtime import agency_spec
from ctdata.lifecycle.registry import DatasetRegistry
from ctdata.monitoring import catalog
from ctdata.monitoring.ledger import Ledger, RunKey
from ctdata.monitoring.views import Links
from ctdata.pipeline.run import DatasetRun
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
    overdue = http.get("/api/datasets?status=overdue").json()["datasets"]
    assert {r["slug"] for r in overdue} == {"deaths_records", "deaths_by_age"}  # never published
    assert http.get("/api/datasets?category=Government").json()["count"] == 0
    monkeypatch.setattr(ui_app, "PAGE_ROWS", 1)
    limited = http.get("/")
    assert limited.text.count("data-key=") == 1 and 'id="show-all"' in limited.text
    assert http.get("/?show=all").text.count("data-key=") == 3


def test_data_docs_outside_the_kept_pages_are_refused(client) -> None:
    http, _ = client
    assert http.get("/data-docs?page=/etc/passwd").status_code == 404


def test_a_dataset_not_on_the_portal_yet_then_under_its_recorded_id(client, monkeypatch) -> None:
    """OCME's deaths_by_age pins no portal id: listed under `ocme.deaths_by_age` without a
    portal link until the pipeline creates it; then under the id it recorded, its first run
    whole (the steps before onboarding too), and the old key still finds it."""
    http, _ = client
    monkeypatch.setattr(catalog, "RECHECK_SECONDS", 0.0)
    rows = {r["key"]: r for r in http.get("/api/datasets").json()["datasets"]}
    row = rows["ocme.deaths_by_age"]
    assert (row["portal_id"], row["portal_url"], row["status"]) == (None, None, "overdue")
    page = http.get("/api/datasets/ocme.deaths_by_age").json()
    assert page["key"] == "ocme.deaths_by_age" and page["history"] == []
    html = http.get("/datasets/ocme.deaths_by_age").text
    assert "Not on the portal yet" in html and 'id="portal-link"' not in html
    overview = http.get("/?show=all").text
    assert 'data-key="ocme.deaths_by_age"' in overview and "not on the portal yet" in overview

    # Its first run: validated, then created by the onboard task (another task), published.
    ocme = agency_spec("ocme")
    task = {"agency": ocme, "dataset": ocme.dataset("deaths_by_age"), "run_id": "manual__2"}
    DatasetRun(**task, dag_id="publish_ocme").record(
        "validate_publishable", {"success": True, "failed": 0}
    )
    registry = DatasetRegistry()
    registry.record_created("ocme", "deaths_by_age", "ocag-e001")
    registry.dispose()
    run = DatasetRun(**task, dag_id="publish_ocme")
    assert run.ledger_key == "ocag-e001"
    run.record("publish", {"created": 4, "updated": 0, "deleted": 0})
    run.record("sync_metadata", {})

    rows = {r["key"]: r for r in http.get("/api/datasets").json()["datasets"]}
    assert "ocme.deaths_by_age" not in rows
    row = rows["ocag-e001"]
    assert (
        row["portal_id"] == "ocag-e001" and row["portal_url"] == "https://data.ct.gov/d/ocag-e001"
    )
    assert (row["status"], row["validation"]) == ("on time", "passed")
    page = http.get("/api/datasets/ocag-e001").json()
    assert [r["run_id"] for r in page["history"]] == ["manual__2"]
    assert set(page["last_run_detail"]["steps"]) == {
        "validate_publishable",
        "publish",
        "sync_metadata",
    }
    assert http.get("/api/datasets/ocme.deaths_by_age").json()["key"] == "ocag-e001"
    html = http.get("/datasets/ocag-e001").text
    assert 'id="portal-link" href="https://data.ct.gov/d/ocag-e001"' in html
    assert 'data-key="ocag-e001"' in http.get("/?show=all").text
