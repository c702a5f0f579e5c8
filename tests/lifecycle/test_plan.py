"""`ctdata plan`: extract, validate and suppress, then show what publishing would change, sending
nothing (the plan runs against a stand-in that fails every write) and recording nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ctdata.cli import main as ctdata
from ctdata.demo.environment import load_ocme_source
from ctdata.lifecycle.registry import DatasetRegistry
from ctdata.pipeline import steps
from ctdata.pipeline.run import DatasetRun, PortalClients
from tests.lifecycle.support import NEW, PASSWORD, USER, client_for


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A var folder with the OCME source database; credentials for `--portal`."""
    monkeypatch.setenv("CTDATA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CTDATA_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("CTDATA_PSEUDONYM_KEY", "test-key")
    monkeypatch.setenv("SOCRATA_USERNAME", USER)
    monkeypatch.setenv("SOCRATA_PASSWORD", PASSWORD)
    (tmp_path / "sources").mkdir()
    load_ocme_source(tmp_path / "sources" / "ocme.db")
    return tmp_path


def _plan(emulator: Any, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert ctdata(["plan", "ocme", NEW, "--portal", emulator.url, "--json"]) == 0
    [plan] = json.loads(capsys.readouterr().out)
    return plan


def _publish(ocme: Any, emulator: Any) -> str:
    """A real publication of the dataset, as the DAG makes it (the review aside)."""
    with client_for(emulator) as client:
        run = DatasetRun(
            agency=ocme, dataset=ocme.dataset(NEW), run_id="run-1", portals=PortalClients.of(client)
        )
        steps.onboard(run)
        extracted = steps.extract(run)
        prepared = steps.aggregate_and_suppress(run, extracted)
        published = steps.publish(run, prepared)
        assert published["temporal_coverage"]  # the spec says 'auto'
        steps.sync_metadata(run, published)
    return str(run.portal_id)


def _state(var: Path) -> tuple[int, int]:
    engine = sa.create_engine(f"sqlite:///{var / 'state.db'}")
    with engine.connect() as conn:
        counts = tuple(
            conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in ("publish_runs", "dataset_registry")
        )
    engine.dispose()
    return counts  # type: ignore[return-value]


def test_a_new_dataset_would_be_created_with_every_row(ocme, portal, setup, capsys) -> None:
    with portal(fail_writes=True) as emulator:  # any write would fail
        plan = _plan(emulator, capsys)
        assert plan["portal_id"] is None and plan["review"] == ["first publication"]
        rows = plan["rows"]
        assert (rows["rows"], rows["created"], rows["changed"], rows["deleted"]) == (72, 72, 0, 0)
        assert rows["created_examples"][0]["cell_id"] == "Under 20|2012"
        with client_for(emulator) as client:
            assert list(client.catalog()) == []
    assert DatasetRegistry().entries() == []
    assert not list((setup / "staging").rglob("*.parquet")), "staged files are removed"


def test_changes_since_the_last_publication_are_listed(ocme, portal, setup, capsys) -> None:
    with portal() as emulator:
        portal_id = _publish(ocme, emulator)
    source = sa.create_engine(f"sqlite:///{setup / 'sources' / 'ocme.db'}")
    withdrawn = (
        'DELETE FROM accidental_drug_related_deaths WHERE "ID" IN (SELECT "ID" FROM '
        'accidental_drug_related_deaths WHERE "Age" BETWEEN 20 AND 29 '
        "AND \"Date\" LIKE '%/2012 %' LIMIT 2)"
    )
    with source.begin() as conn:  # two 2012 deaths of people in their twenties are withdrawn
        conn.execute(sa.text(withdrawn))
    source.dispose()
    before = _state(setup)
    # The same portal, now failing every write.
    with portal(fail_writes=True) as emulator, client_for(emulator) as client:
        rows_before = list(client.read_rows(portal_id))
        plan = _plan(emulator, capsys)
        assert list(client.read_rows(portal_id)) == rows_before
    assert plan["portal_id"] == portal_id and plan["review"] == [] and plan["metadata"] == []
    assert plan["columns"] == {"added": [], "removed": [], "retyped": []}
    rows = plan["rows"]
    assert rows["created"] == rows["deleted"] == 0 and rows["changed"] == 4  # cell and totals
    changed = {c["_key"]: c for c in rows["changed_examples"]}
    assert changed["20-29|2012"]["deaths"] == ["69", "67"]
    assert _state(setup) == before, "a plan records nothing"


def test_the_temporal_coverage_the_data_gives_is_compared(ocme, portal, setup, capsys) -> None:
    coverage = "Temporal Coverage"
    with portal() as emulator:
        portal_id = _publish(ocme, emulator)
        with client_for(emulator) as client:  # someone edits the coverage by hand
            custom = client.get_metadata(portal_id)["metadata"]["custom_fields"]
            assert custom["Dataset Information"][coverage] == "2012 - 2018"
            custom["Dataset Information"][coverage] = "2014 - 2018"
            client.update_metadata(portal_id, {"metadata": {"custom_fields": custom}})
    with portal(fail_writes=True) as emulator:
        plan = _plan(emulator, capsys)
    field = f"Dataset Information: {coverage}"
    assert plan["metadata"] == [{"field": field, "portal": "2014 - 2018", "spec": "2012 - 2018"}]


def test_an_unknown_dataset_is_an_error_naming_the_choices(setup, capsys) -> None:
    assert ctdata(["plan", "ocme", "nope"]) == 2
    assert "datasets: deaths_by_town, deaths_records, deaths_by_age" in capsys.readouterr().err
