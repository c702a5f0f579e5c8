"""A new dataset's life through `airflow dags test` and Airflow's REST API: created private on
the first run, held for OPM's review, rejected (nothing public changes), approved (made public),
then held again when a column is removed, and the approved removal carried to the portal.
(That an approved, unchanged dataset publishes without waiting is what every other end-to-end
test relies on: they record approvals and run without a reviewer.)

The spec is the project's OCME `deaths_by_age` (no portal id) in an agency of its own; an API
server shares the run's metadata database and the reviewer answers through it, as the UI does.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ctdata import settings
from ctdata.demo.environment import ADMIN, APP_TOKEN, LocalSetup
from ctdata.demo.review import (
    ENGINEER,
    REVIEWER,
    ReviewedRun,
    ReviewerClient,
    reviewer_env,
    run_dag_with_reviews,
)
from ctdata.demo.runner import local_portal
from ctdata.demo.services import airflow_services
from ctdata.lifecycle.registry import DatasetRegistry
from ctdata.lifecycle.review import is_public
from ctdata.specs import load_all
from tests.lifecycle.support import NEW

pytestmark = pytest.mark.e2e

DAG = "publish_ocme"
ROWS = 9 * 8  # (8 age groups + Total) x (7 years + Total)
SUITE = "ocme_deaths_by_age_publishable"


def _write_agency(
    folder: Path, drop_column: str | None = None, description: str | None = None
) -> None:
    """The OCME spec with only the new dataset (optionally without one column, and its suite
    without the expectations on that column; or with another description)."""
    raw = yaml.safe_load((settings.current().agencies_dir / "ocme.yaml").read_text())
    [dataset] = [d for d in raw["datasets"] if d["slug"] == NEW]
    if description:
        dataset["metadata"]["description"] = description
    if drop_column:
        dataset["columns"] = [c for c in dataset["columns"] if c["field"] != drop_column]
        _drop_from_suite(folder / "expectations" / f"{SUITE}.json", drop_column)
    raw.update(datasets=[dataset], access_plan=[])
    (folder / "ocme.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def _drop_from_suite(path: Path, column: str) -> None:
    suite = json.loads(path.read_text())
    kept = [e for e in suite["expectations"] if column not in json.dumps(e["kwargs"])]
    columns = [c for c in suite["expectations"][0]["kwargs"]["column_set"] if c != column]
    kept.insert(0, {**suite["expectations"][0], "kwargs": {"column_set": columns,
                                                           "exact_match": True}})  # fmt: skip
    path.write_text(json.dumps({**suite, "expectations": kept}))


class Story:
    """The setup shared by the steps: Airflow, the portal, the reviewer, the registry."""

    def __init__(self, setup: LocalSetup, env: dict[str, str], api_url: str, client: Any):
        self.setup, self.env, self.client = setup, env, client
        self.agencies_dir = Path(env["CTDATA_AGENCIES_DIR"])
        self.reviewer = ReviewerClient(api_url, *REVIEWER)
        self.engineer = ReviewerClient(api_url, *ENGINEER)

    def run(self, decide, conf: dict[str, Any] | None = None) -> ReviewedRun:
        return run_dag_with_reviews(self.setup, self.env, DAG, self.reviewer, decide,
                                    timeout=900, conf=conf)  # fmt: skip

    def portal_id(self) -> str | None:
        registry = DatasetRegistry(self.setup.state_url)
        try:
            return registry.portal_id("ocme", NEW)
        finally:
            registry.dispose()

    def rows(self, portal_id: str) -> list[dict[str, Any]]:
        return list(self.client.get_all(portal_id, order=":id"))


@pytest.fixture(scope="module")
def story(tmp_path_factory) -> Iterator[Story]:
    from socrata_emulator.testing import sodapy_client

    root = tmp_path_factory.mktemp("e2e-review")
    setup = LocalSetup(root / "var")
    agencies_dir = root / "agencies"
    shutil.copytree(settings.current().expectations_dir, agencies_dir / "expectations")
    _write_agency(agencies_dir)
    setup.prepare()
    with local_portal(setup, load_all(agencies_dir).agencies, reviewed=False) as portal:
        env = {
            **setup.env("127.0.0.1", portal.port),
            **reviewer_env(setup),
            "CTDATA_AGENCIES_DIR": str(agencies_dir),
            "CTDATA_EXPECTATIONS_DIR": str(agencies_dir / "expectations"),
        }
        with airflow_services(env, setup.logs_dir / "services", ("api-server",)) as services:
            env = {**env, "AIRFLOW__API__BASE_URL": services.api_url}
            admin = sodapy_client(portal, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)
            yield Story(setup, env, services.api_url, admin)


def test_first_run_creates_the_dataset_private_and_a_rejection_changes_nothing_public(
    story: Story,
) -> None:
    seen: list[dict[str, Any]] = []

    def reject(review: dict[str, Any]) -> tuple[bool, str]:
        seen.append(review)
        refused = story.engineer.respond(review, True, "looks fine to me")
        assert refused.status_code == 403, "only the assigned OPM reviewer may decide"
        return False, "The age groups need a note on how age was recorded"

    run = story.run(reject)
    assert not run.ok
    log = run.log.read_text()
    assert "rejected by opm-reviewer: The age groups need a note on how age was recorded" in log

    [review] = seen
    body = review["body"]
    assert review["subject"] == "Review before publication: Accidental Drug Related Deaths by " \
        "Age Group and Year"  # fmt: skip
    assert "first publication" in body and "Office of the Chief Medical Examiner" in body
    assert "| Age Group | `age_group` | text |" in body and "| Cell ID | `cell_id` | text |" in body
    assert f"{ROWS} rows would be published" in body
    assert "cells withheld" in body and "audit passed" in body
    assert "| Under 20 | Total | 52 | False |" in body  # a sample row as it would be published

    portal_id = story.portal_id()
    assert portal_id is not None, "the dataset was created and its id recorded"
    view = story.client.get_metadata(portal_id)
    assert not is_public(view) and view["name"] == review["subject"].split(": ", 1)[1]
    assert story.rows(portal_id) == []  # nothing was published


def test_approval_publishes_the_dataset_and_makes_it_public(story: Story) -> None:
    portal_id = story.portal_id()
    run = story.run(lambda review: (True, "Checked the suppressed cells"))
    assert run.ok, run.log.read_text()[-4000:]
    assert len(run.reviews) == 1 and "first publication" in run.reviews[0]["body"]
    assert story.portal_id() == portal_id  # the same dataset: not created twice
    view = story.client.get_metadata(portal_id)
    assert is_public(view) and view["publicationStage"] == "published"
    rows = story.rows(portal_id)
    assert len(rows) == ROWS and not [r for r in rows if 1 <= int(r.get("deaths", 0)) <= 5]
    titles = [d["resource"]["name"] for d in story.client.datasets(limit=100)]
    assert titles.count(view["name"]) == 1


def test_a_removed_column_waits_for_review_then_leaves_the_portal(story: Story) -> None:
    _write_agency(story.agencies_dir, drop_column="deaths_suppressed")
    run = story.run(lambda review: (True, "The flag is redundant with blank counts"))
    assert run.ok, run.log.read_text()[-4000:]
    [review] = run.reviews
    assert "columns removed: deaths_suppressed since opm-reviewer approved them" in review["body"]
    view = story.client.get_metadata(story.portal_id())
    assert "deaths_suppressed" not in [c["fieldName"] for c in view["columns"]]
    assert is_public(view) and len(story.rows(story.portal_id())) == ROWS


def no_review_expected(review: dict[str, Any]) -> tuple[bool, str]:
    raise AssertionError(f"unexpected review: {review['subject']}")


def test_a_dry_run_logs_the_plan_and_sends_nothing(story: Story) -> None:
    portal_id = story.portal_id()
    before = story.client.get_metadata(portal_id)
    rows_before = story.rows(portal_id)
    wanted = "Deaths by age group at death and year, as counted by the Chief Medical Examiner."
    _write_agency(story.agencies_dir, drop_column="deaths_suppressed", description=wanted)
    run = story.run(no_review_expected, conf={"dry_run": True})
    assert run.ok, run.log.read_text()[-4000:]
    log = run.log.read_text()
    assert "Dry run: nothing was sent. Publishing would do:" in log
    assert f"ocme/{NEW}: Accidental Drug Related Deaths by Age Group and Year" in log
    assert f"rows: {ROWS} publishable; 0 created, 0 changed, 0 deleted, {ROWS} unchanged" in log
    assert "metadata: 1 field(s) differ" in log and f"-> {wanted[:40]}" in log
    after = story.client.get_metadata(portal_id)
    assert after["description"] == before["description"] != wanted
    assert after["viewLastModified"] == before["viewLastModified"]
    assert story.rows(portal_id) == rows_before
