"""`ctdata datasets`: every spec dataset with its portal id, pinned or created, and OPM's last
decision, from the registry in the state store."""

from __future__ import annotations

import json

from ctdata.cli import main as ctdata
from ctdata.lifecycle.registry import DatasetRegistry
from ctdata.lifecycle.review import decision
from tests.lifecycle.support import NEW


def test_lists_pinned_and_created_ids_with_the_last_review(ocme, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CTDATA_VAR_DIR", str(tmp_path))
    assert ctdata(["datasets", "ocme", "--json"]) == 0
    before = {r["dataset"]: r for r in json.loads(capsys.readouterr().out)}
    assert before[NEW]["portal_id"] is None and before[NEW]["origin"].startswith("not created")
    assert before["deaths_by_town"]["origin"] == "pinned in the spec"

    registry = DatasetRegistry()
    registry.record_created("ocme", NEW, "abcd-1234")
    rejected = decision("ocme", ocme.dataset(NEW), "abcd-1234", approved=False,
                        reviewer="opm-reviewer", reason="Explain the age groups")  # fmt: skip
    registry.record_decision(rejected)
    registry.dispose()
    assert ctdata(["datasets"]) == 0
    table = capsys.readouterr().out.splitlines()
    [row] = [line for line in table if NEW in line]
    assert "abcd-1234" in row and "created" in row
    assert "rejected by opm-reviewer on" in row and "Explain the age groups" in row
    assert any("ocme-twn7" in line and "pinned in the spec" in line for line in table)
    assert any(line.startswith("opm ") for line in table)  # every agency without a filter


def test_an_unknown_agency_is_an_error_naming_the_known_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CTDATA_VAR_DIR", str(tmp_path))
    assert ctdata(["datasets", "nope"]) == 2
    assert "agencies: ocme, opm" in capsys.readouterr().err
