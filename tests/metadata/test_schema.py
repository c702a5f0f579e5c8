"""The agency spec's JSON Schema: committed in sync with the models, referenced by every spec,
accepting the shipped specs and rejecting what the models reject."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from ctdata import settings
from ctdata.cli import main
from ctdata.specs.schema import COMMITTED_SCHEMA, SCHEMA_LINE, schema_text

SPECS = sorted((settings.PROJECT_ROOT / "include" / "agencies").glob("*.yaml"))


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(COMMITTED_SCHEMA.read_text()))


def test_committed_schema_matches_the_models() -> None:
    assert COMMITTED_SCHEMA.read_text() == schema_text(), (
        "the committed schema is stale: run `ctdata schema` and commit "
        f"{COMMITTED_SCHEMA.relative_to(settings.PROJECT_ROOT)}"
    )


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_each_spec_points_to_the_schema_and_validates(spec: Path) -> None:
    assert spec.read_text().splitlines()[0] == SCHEMA_LINE
    assert (spec.parent / SCHEMA_LINE.rpartition("=")[2]).is_file()
    errors = list(_validator().iter_errors(yaml.safe_load(spec.read_text())))
    assert errors == []


def test_schema_rejects_what_the_models_reject() -> None:
    ocme = yaml.safe_load(SPECS[0].read_text())
    ocme["datasets"][0]["metadata"]["category"] = "Health"
    ocme["datasets"][0]["colour"] = "red"
    messages = [e.message for e in _validator().iter_errors(ocme)]
    assert any("'Health' is not one of" in m for m in messages)
    assert any("'colour' was unexpected" in m for m in messages)


def test_schema_offers_vocabularies_for_completion() -> None:
    schema = json.loads(COMMITTED_SCHEMA.read_text())
    metadata = schema["$defs"]["DatasetMetadata"]["properties"]
    assert "Health and Human Services" in metadata["category"]["enum"]
    assert "description" in metadata["title"]  # hover text in the editor


def test_cli_writes_the_schema(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    assert out.read_text() == schema_text()
