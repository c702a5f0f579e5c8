"""The Open Data view in the real API server after the demo's runs: behind Airflow's login,
scoped by the auth manager's DAG permissions, listing the demo datasets with their figures."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "path", ["/ctdata/api/datasets", "/ctdata/api/datasets/ocme-twn7", "/ctdata/api/overview"]
)
def test_anonymous_api_calls_get_401_and_no_data(demo_ui, path) -> None:
    answer = demo_ui.get(path)
    assert answer.status_code == 401
    assert "ocme" not in answer.text and "Accidental" not in answer.text


def test_a_forged_token_is_refused(demo_ui) -> None:
    answer = demo_ui.get("/ctdata/api/datasets", headers={"Authorization": "Bearer abc.def.ghi"})
    assert answer.status_code in (401, 403) and "ocme" not in answer.text


def test_anonymous_pages_go_to_the_login_page(demo_ui) -> None:
    answer = demo_ui.get("/ctdata/datasets/ocme-twn7", allow_redirects=False)
    assert answer.status_code == 303
    assert "/auth/login?next=" in answer.headers["location"]
    assert "Accidental" not in answer.text


def test_datasets_lists_the_demo_datasets_with_their_figures(demo_ui) -> None:
    body = demo_ui.get("/ctdata/api/datasets", user="opm").json()
    rows = {r["portal_id"]: r for r in body["datasets"] if r["agency"] != "opm_program"}
    assert set(rows) == demo_ui.dataset_ids
    assert all(r["key"] == r["portal_id"] for r in rows.values())  # all on the portal now
    town = rows["ocme-twn7"]
    assert town["agency"] == "ocme" and town["title"].startswith("Accidental Drug Related Deaths")
    assert town["last_publish"]["created"] == 171 * 8 * 4
    assert town["suppressed_cells"] > 0 and town["validation"] == "passed"
    assert town["visibility"] == "public" and town["retirement"] is None
    records = rows["rybz-nyjw"]  # de-identified records: no cells, and no "0 suppressed"
    assert records["record_level"] and records["suppressed_cells"] is None
    assert town["status"] == "on time" and town["next_due_local"].endswith("06:00 EST")
    assert rows["opmt-wn01"]["status"] == "not scheduled"
    assert rows["opmt-wn01"]["last_publish"]["created"] == 169
    assert sum(r["usage_30d"]["views"] for r in rows.values()) > 0  # the demo's traffic


def test_dataset_page_data_has_run_history_and_validation(demo_ui) -> None:
    page = demo_ui.get("/ctdata/api/datasets/ocme-twn7", user="opm").json()
    assert page["history"][0]["status"] == "succeeded"
    assert page["history"][0]["airflow_url"].endswith(
        f"/dags/publish_ocme/runs/{page['history'][0]['run_id']}"
    )
    detail = page["last_run_detail"]
    assert detail["validation"]["validate_publishable"]["success"] is True
    assert detail["disclosure"]["audit_passed"] is True
    assert (
        detail["disclosure"]["primary"] + detail["disclosure"]["complementary"]
        == page["suppressed_cells"]
    )


def test_the_created_dataset_shows_under_its_id_with_its_whole_first_run(demo_ui) -> None:
    """deaths_by_age pins no id: the run validated it, created it (onboard), published it; the
    view lists it under the recorded id with the validation of the steps before creation."""
    created = demo_ui.created_id
    row = next(
        r
        for r in demo_ui.get("/ctdata/api/datasets", user="opm").json()["datasets"]
        if r["slug"] == "deaths_by_age"
    )
    assert (row["key"], row["portal_id"]) == (created, created)
    assert row["portal_url"].endswith(f"/d/{created}") and row["validation"] == "passed"
    assert row["status"] == "on time" and row["last_publish"]["created"] > 0
    page = demo_ui.get(f"/ctdata/api/datasets/{created}", user="opm").json()
    assert len(page["history"]) == 1 and page["history"][0]["status"] == "succeeded"
    steps = page["last_run_detail"]["steps"]
    assert {"extract", "validate_source", "validate_publishable", "publish"} <= set(steps)
    old_link = demo_ui.get("/ctdata/api/datasets/ocme.deaths_by_age", user="opm").json()
    assert old_link["key"] == created


def test_an_agency_officer_sees_only_their_agency(demo_ui) -> None:
    rows = demo_ui.get("/ctdata/api/datasets", user="ocme_officer").json()["datasets"]
    assert {r["portal_id"] for r in rows} == {"ocme-twn7", "rybz-nyjw", demo_ui.created_id}
    assert demo_ui.get("/ctdata/api/datasets/opmt-wn01", user="ocme_officer").status_code == 404
    agencies = demo_ui.get("/ctdata/api/overview", user="ocme_officer").json()["agencies"]
    assert [a["agency"] for a in agencies] == ["ocme"]


def test_the_view_is_in_airflow_navigation(demo_ui) -> None:
    plugins = demo_ui.get("/api/v2/plugins", user="opm").json()["plugins"]
    ours = next(p for p in plugins if p["name"] == "ctdata_open_data")
    view = ours["external_views"][0]
    assert view["name"] == "Open Data" and view["url_route"] == "open-data"
    assert ours["fastapi_apps"][0]["url_prefix"] == "/ctdata"


def test_data_docs_of_the_last_run_are_served_to_those_who_may_see_them(demo_ui) -> None:
    page = demo_ui.get("/ctdata/api/datasets/opmt-wn01", user="opm").json()
    suites = page["last_run_detail"]["validation"]["validate_source"]["suites"]
    docs = suites[0]["data_docs"]
    shown = demo_ui.get("/ctdata/data-docs", user="opm", params={"page": docs})
    assert shown.status_code == 200 and "opm_towns_publishable" in shown.text
    refused = demo_ui.get("/ctdata/data-docs", user="ocme_officer", params={"page": docs})
    assert refused.status_code == 404
    html = demo_ui.get("/ctdata/datasets/opmt-wn01", user="opm").text
    assert 'class="data-docs"' in html


def test_opms_own_datasets_are_in_the_view_for_those_who_read_its_dags(demo_ui) -> None:
    """The usage and scorecard datasets, the registers and the run log, measured nightly."""
    from ctdata.metrics.config import load_metrics_config
    from ctdata.specs.registers import load_registers_config

    wanted = {*load_metrics_config().output_ids}
    wanted |= {d.portal_id for d in load_registers_config().agency().datasets}
    rows = demo_ui.get("/ctdata/api/datasets", user="opm").json()["datasets"]
    program = {r["portal_id"]: r for r in rows if r["agency"] == "opm_program"}
    assert wanted <= set(program)
    from ctdata.metrics.history import UsageHistory

    store = UsageHistory(demo_ui.setup.state_url)  # the nightly measurement is the truth here
    measured = {r["dataset_id"]: r for r in store.snapshot(store.snapshot_dates()[-1])}
    store.dispose()
    usage = program[load_metrics_config().usage_dataset.portal_id]
    truth = measured[usage["portal_id"]]
    status = {"on time": "on time", "overdue": "overdue"}.get(truth["freshness"], "not scheduled")
    assert usage["status"] == status
    assert usage["last_publish"]["finished"] == truth["last_update"].isoformat()
    assert usage["publishes_with"] == "the usage_metrics DAG" and usage["visibility"] is None
    officer = demo_ui.get("/ctdata/api/datasets", user="ocme_officer").json()["datasets"]
    assert not [r for r in officer if r["agency"] == "opm_program"]


def test_the_access_plan_counts_as_the_published_access_plan_dataset(demo_ui) -> None:
    """OCME's plan: three entries and deaths_by_age (a spec dataset the plan does not list);
    three are public after the demo's runs, as the Open Data Access Plans dataset says."""
    agencies = demo_ui.get("/ctdata/api/overview", user="opm").json()["agencies"]
    ocme = next(a for a in agencies if a["agency"] == "ocme")
    assert ocme["access_plan"] == {"published": 3, "items": 4, "late": 0}


def test_what_de_identification_did_matches_the_source_and_the_portal(demo_ui) -> None:
    """OCME's de-identified records: every source record is counted in, and the records on the
    portal are those not left out; generalized ages show as 'Suppressed' there."""
    from ctdata.demo.environment import ADMIN, APP_TOKEN
    from socrata_emulator.testing import sodapy_client

    page = demo_ui.get("/ctdata/api/datasets/rybz-nyjw", user="opm").json()
    done = page["last_run_detail"]["deidentification"]["small_groups"]
    admin = sodapy_client(demo_ui.portal, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)
    [on_portal] = admin.get("rybz-nyjw", select="count(*) AS n")
    [generalized] = admin.get("rybz-nyjw", select="count(*) AS n", where="age_group = 'Suppressed'")
    assert done["k"] == 6 and done["records_in"] == 5105  # the OCME source's records
    assert done["records_in"] - done["records_dropped"] == int(on_portal["n"])
    assert 0 < int(generalized["n"]) <= done["generalized"]["age_group"]
    html = demo_ui.get("/ctdata/datasets/rybz-nyjw", user="opm").text
    assert 'id="k-anonymity"' in html and "0 cells suppressed" not in html


def test_the_dataset_page_shows_the_joint_audit_of_its_population(demo_ui) -> None:
    """OCME's tables are one population: each page says they were audited together with every
    release, as the protection step found."""
    for dataset_id in ("ocme-twn7", "rybz-nyjw"):
        page = demo_ui.get(f"/ctdata/api/datasets/{dataset_id}", user="opm").json()
        made = page["last_run_detail"]["disclosure"]
        assert made["population"] == "ocme.ocme_deaths"
        assert made["joint_audit"].startswith("joint audit passed")
        html = demo_ui.get(f"/ctdata/datasets/{dataset_id}", user="opm").text
        assert 'id="joint-audit"' in html and "joint audit passed" in html
