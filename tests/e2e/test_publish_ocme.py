"""End to end: `airflow dags test publish_ocme` against the portal stand-in, read back with sodapy."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from ctdata.demo.environment import ADMIN, APP_TOKEN, LocalSetup
from ctdata.demo.runner import latest_xcoms, local_portal, run_dag
from ctdata.specs import load_all

pytestmark = pytest.mark.e2e

TOWN_ROWS = 171 * 8 * 4  # (169 towns + Unknown + Total) x (7 years + Total) x (3 sexes + Total)
RECORDS = 5105
COUNTED_AIRFLOW = [sys.executable, str(Path(__file__).with_name("counted_airflow.py"))]


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    from socrata_emulator.testing import sodapy_client

    setup = LocalSetup(tmp_path_factory.mktemp("e2e-var"))
    setup.prepare()
    with local_portal(setup, load_all().agencies) as emulator:
        client = sodapy_client(emulator, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)
        yield setup, setup.env("127.0.0.1", emulator.port), client


def _all_rows(client, dataset_id: str) -> list[dict]:
    return list(client.get_all(dataset_id, order=":id"))


def test_first_run_publishes_suppressed_table_and_records(portal) -> None:
    setup, env, client = portal
    env = {**env, "CTDATA_TEST_COUNTS": str(setup.var_dir / "first-run-counts.json")}
    ok, log = run_dag(setup, env, "publish_ocme", airflow=COUNTED_AIRFLOW)
    assert ok, Path(log).read_text()[-4000:]

    towns = _all_rows(client, "ocme-twn7")
    assert len(towns) == TOWN_ROWS
    published = [int(r["deaths"]) for r in towns if "deaths" in r]
    assert published and not [n for n in published if 1 <= n <= 5]
    suppressed = [r for r in towns if r.get("deaths_suppressed") is True]
    assert suppressed and all("deaths" not in r for r in suppressed)
    grand_total = next(r for r in towns if r["cell_id"] == "Total|Total|Total")
    assert int(grand_total["deaths"]) == RECORDS
    assert {r["town"] for r in towns} >= {"Windham", "Greenwich", "Mansfield", "Unknown", "Total"}

    records = _all_rows(client, "rybz-nyjw")
    assert RECORDS - 50 < len(records) <= RECORDS  # the few people alone in their group left out
    assert not {"case_id", "date", "town", "age"} & set().union(*records)
    groups = Counter((r["year"], r["age_group"], r["sex"]) for r in records)
    assert min(groups.values()) >= 6, "a record stands for a group of 1 to 5 people"

    view = client.get_metadata("ocme-twn7")
    assert view["name"] == "Accidental Drug Related Deaths by Town, Year and Sex"
    assert view["metadata"]["custom_fields"]["Publishing"]["Update Frequency"] == "Annually"
    assert view["publicationStage"] == "published"


def test_each_task_builds_its_run_once(portal) -> None:
    """`airflow dags test` ran the first run's 30 tasks (the preflight, the staging sweep, the
    datasets' 27 and the population's protection) in one process: one store engine in all, the spec read once per task (and by
    each parse of the DAG file), and the dataset registry asked for a portal id only by the
    tasks of the dataset the spec pins no id for, once each."""
    setup, _, _ = portal
    counts = json.loads((setup.var_dir / "first-run-counts.json").read_text())
    tasks = len(latest_xcoms(setup, "publish_ocme"))  # every task returned its summary
    assert counts["engines"] == 1
    assert {k for k in counts if k.startswith("portal id lookups")} == {
        "portal id lookups: deaths_by_age"
    }
    assert counts["portal id lookups: deaths_by_age"] <= 9  # its group's tasks
    assert tasks == 30 and counts["spec reads: ocme.yaml"] == tasks + counts["DAG file parses"]


def test_every_step_is_recorded_in_the_ledger(portal) -> None:
    """The first run of the dataset the pipeline created is one record under its new id, with
    every step, onboarding and the review included."""
    from ctdata.lifecycle.registry import DatasetRegistry
    from ctdata.monitoring.ledger import Ledger

    setup, _, _ = portal
    created = DatasetRegistry(setup.state_url).portal_id("ocme", "deaths_by_age")
    ledger = Ledger(setup.state_url)
    [run] = ledger.history(str(created))
    assert run["status"] == "succeeded" and ledger.history("ocme.deaths_by_age") == []
    assert set(ledger.run(str(created), run["run_id"])["steps"]) == {
        "extract", "validate_source", "aggregate_and_suppress", "validate_publishable",
        "onboard", "review", "publish", "sync_metadata",
    }  # fmt: skip


def test_rerun_sends_nothing_and_keeps_the_same_rows(portal) -> None:
    setup, env, client = portal
    before = _all_rows(client, "ocme-twn7")
    records_before = _all_rows(client, "rybz-nyjw")
    ok, log = run_dag(setup, env, "publish_ocme")
    assert ok, Path(log).read_text()[-4000:]
    published = latest_xcoms(setup, "publish_ocme")
    for slug in ("deaths_by_town", "deaths_records"):
        result = published[f"{slug}.publish"]
        assert (result["created"], result["updated"], result["deleted"]) == (0, 0, 0)
    assert _all_rows(client, "ocme-twn7") == before
    assert _all_rows(client, "rybz-nyjw") == records_before


def test_source_row_breaking_an_expectation_stops_before_publish(portal) -> None:
    setup, env, client = portal
    before = _all_rows(client, "ocme-twn7")
    records_before = _all_rows(client, "rybz-nyjw")
    engine = sa.create_engine(f"sqlite:///{setup.sources_dir / 'ocme.db'}")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                'INSERT INTO accidental_drug_related_deaths ("ID", "Date", "Sex", "DeathCity") '
                "VALUES ('30-0001', '01/01/2030 12:00:00 AM', 'Male', 'HARTFORD')"
            )
        )
    try:
        ok, log = run_dag(setup, env, "publish_ocme")
        assert not ok
        text = Path(log).read_text()
        assert "ocme_deaths_source" in text and "year" in text
        assert _all_rows(client, "ocme-twn7") == before
        assert _all_rows(client, "rybz-nyjw") == records_before
    finally:
        with engine.begin() as connection:
            connection.execute(
                sa.text("DELETE FROM accidental_drug_related_deaths WHERE \"ID\" = '30-0001'")
            )
        engine.dispose()
