"""The registry: where created datasets live, one id per spec dataset, and review decisions."""

from __future__ import annotations

import datetime as dt

import pytest

from ctdata.lifecycle.registry import DatasetRegistry, ReviewDecision, resolve_portal_id
from tests.lifecycle.support import NEW


def test_a_pinned_id_is_the_answer_without_touching_the_store(ocme, tmp_path, monkeypatch) -> None:
    store = tmp_path / "state.db"
    monkeypatch.setenv("CTDATA_STATE_URL", f"sqlite:///{store}")
    assert resolve_portal_id("ocme", ocme.dataset("deaths_by_town")) == "ocme-twn7"
    assert not store.exists()


def test_a_created_id_is_found_by_agency_and_slug(ocme, registry) -> None:
    dataset = ocme.dataset(NEW)
    assert resolve_portal_id("ocme", dataset, registry) is None
    registry.record_created("ocme", NEW, "abcd-1234")
    assert resolve_portal_id("ocme", dataset, registry) == "abcd-1234"
    assert registry.portal_id("opm", NEW) is None  # keyed by agency too


def test_one_dataset_never_gets_a_second_id(registry) -> None:
    registry.note_create_attempt("ocme", NEW)
    registry.record_created("ocme", NEW, "abcd-1234")
    registry.record_created("ocme", NEW, "abcd-1234")  # again: nothing changes
    with pytest.raises(ValueError, match="already registered as portal dataset abcd-1234"):
        registry.record_created("ocme", NEW, "wxyz-9876")
    [entry] = registry.entries()
    assert (entry.portal_id, entry.create_attempted_at) == ("abcd-1234", None)
    assert entry.created_at is not None and entry.created_at.tzinfo is not None


def test_an_unknown_create_is_remembered_until_cleared(registry) -> None:
    at = registry.note_create_attempt("ocme", NEW)
    entry = registry.entry("ocme", NEW)
    assert entry is not None and entry.portal_id is None
    assert abs(entry.create_attempted_at - at) < dt.timedelta(seconds=1)
    registry.clear_create_attempt("ocme", NEW)
    assert registry.entry("ocme", NEW).create_attempted_at is None


def _decision(decision: str, reviewer: str, columns: dict[str, str]) -> ReviewDecision:
    return ReviewDecision("ocme", NEW, "abcd-1234", decision, reviewer, "why",  # type: ignore[arg-type]
                          columns, dt.datetime.now(dt.UTC))  # fmt: skip


def test_decisions_latest_first_and_the_last_approval(registry: DatasetRegistry) -> None:
    registry.record_decision(_decision("approved", "ann", {"a": "text"}))
    registry.record_decision(_decision("rejected", "bob", {"a": "text", "b": "number"}))
    decisions = registry.decisions("ocme", NEW)
    assert [d.reviewer for d in decisions] == ["bob", "ann"]
    approval = registry.last_approval("ocme", NEW)
    assert approval is not None and approval.reviewer == "ann"
    assert approval.columns == {"a": "text"} and approval.decided_at.tzinfo is not None
    assert registry.last_approval("opm", NEW) is None
