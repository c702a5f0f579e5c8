"""A dataset's run: its portal id is settled once, its records land under one key however far
it got, and the ledger never fails a step."""

from __future__ import annotations

import pytest

from ctdata import settings
from ctdata.errors import ConfigurationError
from ctdata.lifecycle.registry import DatasetRegistry
from ctdata.monitoring.ledger import Ledger
from ctdata.pipeline.run import AgencyRun
from ctdata.specs import load_agency
from ctdata.store import Store


@pytest.fixture
def ocme(store_url: str) -> AgencyRun:
    """A run of OCME's datasets on each store backend (`deaths_by_age` pins no portal id)."""
    agency = load_agency(settings.current().agencies_dir / "ocme.yaml")
    return AgencyRun(
        agency=agency, run_id="manual__1", dag_id="publish_ocme", store=Store(store_url)
    )


def _lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    original = DatasetRegistry.portal_id

    def portal_id(self: DatasetRegistry, agency: str, slug: str) -> str | None:
        asked.append(slug)
        return original(self, agency, slug)

    monkeypatch.setattr(DatasetRegistry, "portal_id", portal_id)
    return asked


def test_the_portal_id_is_settled_once_per_run(ocme: AgencyRun, monkeypatch) -> None:
    ocme.dataset_run("deaths_by_age").registry.record_created("ocme", "deaths_by_age", "ocag-e001")
    asked = _lookups(monkeypatch)
    created, pinned = ocme.dataset_run("deaths_by_age"), ocme.dataset_run("deaths_by_town")
    for _ in range(3):
        assert (created.portal_id, created.ledger_key) == ("ocag-e001", "ocag-e001")
        assert pinned.require_portal_id() == "ocme-twn7"
    created.record("extract", {"rows": 1})
    pinned.record("extract", {"rows": 1})
    assert asked == ["deaths_by_age"]  # once, and never for a pinned id


def test_a_dataset_not_created_yet_says_what_creates_it(ocme: AgencyRun) -> None:
    run = ocme.dataset_run("deaths_by_age")
    assert run.portal_id is None and run.ledger_key == "ocme.deaths_by_age"
    with pytest.raises(ConfigurationError, match="its DAG's onboard task creates it"):
        run.require_portal_id()


def test_records_before_onboarding_join_the_run_under_its_new_id(ocme: AgencyRun) -> None:
    first = ocme.dataset_run("deaths_by_age")  # the extract task, before the dataset exists
    first.record("extract", {"rows": 5105})
    onboarding = ocme.dataset_run("deaths_by_age")
    onboarding.registry.record_created("ocme", "deaths_by_age", "ocag-e001")
    onboarding.settle_portal_id("ocag-e001")
    onboarding.record("onboard", {"portal_id": "ocag-e001", "how": "created"})
    later = ocme.dataset_run("deaths_by_age")  # a later task: the id comes from the registry
    later.record("publish", {"created": 72, "updated": 0, "deleted": 0})
    ledger = Ledger(ocme.store.url)
    assert ledger.history("ocme.deaths_by_age") == []
    [run] = ledger.history("ocag-e001")
    assert set(ledger.run("ocag-e001", run["run_id"])["steps"]) == {"extract", "onboard", "publish"}
    assert run["created"] == 72


def test_a_failure_is_recorded_in_words_and_a_broken_ledger_fails_nothing(
    ocme: AgencyRun, monkeypatch, caplog
) -> None:
    run = ocme.dataset_run("deaths_by_town")
    run.record_failure(
        "extract", ConfigurationError("connection ocme_cases has no host"), final=True
    )
    [failed] = Ledger(ocme.store.url).history("ocme-twn7")
    assert (failed["status"], failed["failed_step"]) == ("failed", "extract")
    assert "connection ocme_cases has no host" in failed["reason"]

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(Ledger, "record_step", broken)
    run.record("publish", {"created": 1})  # logged, not raised
    assert "Could not write the monitoring ledger" in caplog.text
