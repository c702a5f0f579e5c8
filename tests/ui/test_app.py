"""The view's FastAPI app on its own (the access dependency stubbed): routes, scoping by the
agencies the dependency allows, filters, the overview's row limit, Data Docs outside a root."""

from __future__ import annotations

import os
import re

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


def _kept(root, agency: str, name: str, text: str) -> str:
    path = root / agency / "deaths_by_town" / "manual__1" / "source" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_data_docs_are_served_inert_with_their_headers(client, tmp_path, monkeypatch) -> None:
    """A kept page carrying markup (as pages kept before the escaping did) is served with no
    executable markup, under a script-forbidding sandbox policy; a result as JSON, nothing else."""
    from tests.markup_checks import executable_markup, remote_references

    root = tmp_path / "docs"
    monkeypatch.setenv("CTDATA_DATA_DOCS_ROOT", str(root))
    http, who = client
    page = _kept(root, "ocme", "s.html", '<html><head><script src="https://code.jquery.com/j.js">'
                 '</script></head><body><a href="../../index.html">Home</a>'
                 '<td><img src=x onerror=alert(1)>town</td></body></html>')  # fmt: skip
    answer = http.get("/data-docs", params={"page": page})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'none'" in policy and "sandbox" in policy.split("; ")[-1]
    assert "allow-scripts" not in policy and "allow-same-origin" not in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert executable_markup(answer.text) == [] and remote_references(answer.text) == []
    assert '<a href="/ctdata/datasets/ocme-twn7">Home</a>' in answer.text and "town" in answer.text
    result = _kept(root, "ocme", "s.json", '{"results": ["<img src=x onerror=alert(1)>"]}')
    answer = http.get("/data-docs", params={"page": result})
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'none'" in answer.headers["content-security-policy"]
    other = _kept(root, "ocme", "notes.txt", "<script>alert(1)</script>")
    assert http.get("/data-docs", params={"page": other}).status_code == 404
    opm = _kept(root, "opm", "s.html", "<p>towns</p>")  # an agency the user may not see
    assert http.get("/data-docs", params={"page": opm}).status_code == 404
    who["access"] = None
    assert http.get("/data-docs", params={"page": page}).status_code == 401


def test_the_pages_assets_are_the_installed_files(client) -> None:
    http, who = client
    who["access"] = None  # library files, no data: a sandboxed page loads them without a session
    css = http.get("/data-docs/static/bootstrap.min.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.text.startswith("/*!\n * Bootstrap v4.") and css.headers["x-content-type-options"]
    assert http.get("/data-docs/static/ctdata-data-docs.css").text.count(".fa-check-circle") == 1
    assert http.get("/data-docs/static/logo-long.png").headers["content-type"] == "image/png"
    for name in ("../../settings.py", "passwd", "state.db"):
        assert http.get(f"/data-docs/static/{name}").status_code == 404


def test_head_is_answered_like_get(client) -> None:
    http, _ = client
    for path in ("/", "/datasets/ocme-twn7", "/api/datasets", "/api/overview"):
        answer = http.head(path)
        assert answer.status_code == 200 and answer.content == b"", path
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_pages_words_and_figures_read_right(client) -> None:
    """Regressions a person saw: the access plan as 'N of M', spaces between words."""
    http, _ = client
    overview = http.get("/").text
    assert '<td class="n access-plan">0 of 4</td>' in overview  # OCME's plan: 4 items
    assert 'id="queue"' in overview and overview.index('id="queue"') < overview.index("agencies")
    page = http.get("/datasets/ocme-twn7").text
    assert re.search(r"</(a|span)> \s*&middot; Health and Human Services", page)
    assert "built-in method" not in overview + page


def test_the_readmes_demo_environment_names_what_the_demo_sets(tmp_path) -> None:
    """The README's commands to open the view on the demo's data set every CTDATA_ variable
    the demo's runs set (without CTDATA_REPORTS_DIR the view found no Data Docs: 404)."""
    from ctdata import settings
    from ctdata.demo.environment import LocalSetup

    readme = (settings.PROJECT_ROOT / "README.md").read_text()
    block = readme.split("To open it on the demo's data", 1)[1].split("```", 2)[1]
    exported = set(re.findall(r"\b(CTDATA_[A-Z_]+)=", block))
    env = LocalSetup(tmp_path).env("127.0.0.1", 8089)
    demo = {k for k, v in env.items() if k.startswith("CTDATA_") and os.environ.get(k) != v}
    assert {"CTDATA_VAR_DIR", "CTDATA_REPORTS_DIR"} <= demo <= exported, demo - exported
