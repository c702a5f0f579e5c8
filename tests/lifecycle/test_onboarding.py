"""Onboarding against the stand-in: a spec dataset without a portal id is created once, private,
with its columns, row identifier and metadata, even when the create request's answer is lost."""

from __future__ import annotations

import pytest

from ctdata.lifecycle.onboarding import MARKER_KEY, OnboardingPending
from ctdata.lifecycle.portal_metadata import metadata_changes, view_metadata
from ctdata.lifecycle.registry import DatasetRegistry
from ctdata.lifecycle.review import is_public
from tests.lifecycle.support import NEW, client_for, datasets_on, onboard


def test_creates_the_dataset_private_with_the_spec_and_records_it(ocme, portal, registry) -> None:
    dataset = ocme.dataset(NEW)
    with portal() as emulator, client_for(emulator) as client:
        done = onboard(ocme, dataset, client, registry)
        assert done.how == "created"
        assert registry.portal_id("ocme", NEW) == done.portal_id
        view = client.get_metadata(done.portal_id)
        assert not is_public(view) and view["publicationStage"] == "unpublished"
        columns = [(c["fieldName"], c["name"], c["dataTypeName"], c["description"])
                   for c in view["columns"]]  # fmt: skip
        assert columns == [(c.field, c.name, c.type, c.description) for c in dataset.columns]
        assert view["metadata"]["rowIdentifier"] == "cell_id"
        assert view["metadata"][MARKER_KEY] == {"agency": "ocme", "dataset": NEW}
        # Every metadata field the spec owns is already in line: nothing left for sync_metadata.
        assert metadata_changes(view, view_metadata(ocme, dataset)) == {}

        again = onboard(ocme, dataset, client, registry)
        assert (again.portal_id, again.how) == (done.portal_id, "registered")
        assert [d["id"] for d in datasets_on(client)] == [done.portal_id]


def test_a_pinned_dataset_is_left_alone(ocme, portal, registry) -> None:
    with portal() as emulator, client_for(emulator) as client:
        done = onboard(ocme, ocme.dataset("deaths_by_town"), client, registry)
        assert (done.portal_id, done.how) == ("ocme-twn7", "pinned")
        assert datasets_on(client) == [] and registry.entries() == []


def test_a_lost_registry_finds_the_dataset_instead_of_creating_another(
    ocme, portal, registry, tmp_path
) -> None:
    dataset = ocme.dataset(NEW)
    with portal() as emulator, client_for(emulator) as client:
        first = onboard(ocme, dataset, client, registry)
        fresh = DatasetRegistry(f"sqlite:///{tmp_path / 'new-state.db'}")
        again = onboard(ocme, dataset, client, fresh)
        assert (again.portal_id, again.how) == (first.portal_id, "found")
        assert fresh.portal_id("ocme", NEW) == first.portal_id
        assert len(datasets_on(client)) == 1
        fresh.dispose()


def test_a_create_applied_but_answered_500_is_found_not_repeated(ocme, portal, registry) -> None:
    with portal(faults=("applied_500",)) as emulator, client_for(emulator) as client:
        done = onboard(ocme, ocme.dataset(NEW), client, registry)
        [created] = datasets_on(client)
        assert (done.portal_id, done.how) == (created["id"], "found")
        assert registry.entry("ocme", NEW).create_attempted_at is None


def test_a_lost_create_waits_for_the_portal_before_creating_again(
    ocme, portal, registry, monkeypatch
) -> None:
    dataset = ocme.dataset(NEW)
    with portal(faults=("500", None, None)) as emulator, client_for(emulator) as client:
        with pytest.raises(OnboardingPending, match="may or may not have succeeded") as caught:
            onboard(ocme, dataset, client, registry)
        assert caught.value.retryable  # the task retries, and looks again first
        with pytest.raises(OnboardingPending, match="no new dataset is created before"):
            onboard(ocme, dataset, client, registry)
        assert datasets_on(client) == []
        monkeypatch.setenv("CTDATA_ONBOARDING_SETTLE_MINUTES", "0")
        done = onboard(ocme, dataset, client, registry)
        assert done.how == "created" and len(datasets_on(client)) == 1
