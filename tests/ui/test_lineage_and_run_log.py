"""After the demo's runs: every publish emitted its Airflow Asset with the row counts, the
Assets API lists them, and the portal's run-log dataset holds one row per dataset run with
counts and no data values."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from ctdata import settings
from ctdata.demo.environment import ADMIN, APP_TOKEN
from ctdata.monitoring.run_log import COLUMNS

pytestmark = pytest.mark.e2e


def test_each_publish_emits_its_asset_with_row_counts(demo_ui) -> None:
    engine = sa.create_engine(f"sqlite:///{demo_ui.setup.airflow_home / 'airflow.db'}")
    with engine.connect() as conn:
        events = conn.execute(sa.text(
            "SELECT a.uri, e.extra, e.source_dag_id, e.source_task_id FROM asset_event e "
            "JOIN asset a ON a.id = e.asset_id"
        )).all()  # fmt: skip
    engine.dispose()
    by_uri = {uri: (json.loads(extra), dag, task) for uri, extra, dag, task in events}
    assert set(by_uri) == {f"x-socrata://127.0.0.1/{i}" for i in demo_ui.dataset_ids}
    extra, dag, task = by_uri["x-socrata://127.0.0.1/ocme-twn7"]
    assert (dag, task) == ("publish_ocme", "deaths_by_town.publish")
    assert extra["rows_created"] == 171 * 8 * 4 and extra["rows_deleted"] == 0
    # the dataset the run created: its publish task's alias resolved to the new id's asset
    extra, dag, task = by_uri[f"x-socrata://127.0.0.1/{demo_ui.created_id}"]
    assert (dag, task) == ("publish_ocme", "deaths_by_age.publish")
    assert extra["rows_created"] > 0
    created = f"x-socrata://127.0.0.1/{demo_ui.created_id}"
    assets = demo_ui.get("/api/v2/assets", user="opm").json()["assets"]
    assert {a["uri"] for a in assets} >= set(by_uri) - {created}
    # An asset made through an alias is activated (listed by default) by the scheduler's next
    # orphanage check (apache/airflow#58058); these runs had no scheduler.
    every = demo_ui.get("/api/v2/assets", user="opm", params={"only_active": "false"}).json()
    assert created in {a["uri"] for a in every["assets"]}


def test_the_run_log_dataset_holds_each_run_without_data(demo_ui) -> None:
    from socrata_emulator.testing import sodapy_client

    admin = sodapy_client(demo_ui.portal, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)
    rows = admin.get(settings.current().run_log_dataset_id)
    assert {r["dataset_id"] for r in rows} == demo_ui.dataset_ids and len(rows) == 5
    allowed = {field for _, field, _, _ in COLUMNS}
    for row in rows:
        assert set(row) <= allowed, set(row) - allowed
        assert row["status"] == "succeeded" and "message" not in row
        assert row["run_key"] == f"{row['dataset_id']}|{row['airflow_run_id']}"
    towns = next(r for r in rows if r["dataset_id"] == "opmt-wn01")
    assert int(towns["rows_created"]) == 169 and int(towns["bytes_sent"]) > 0
