"""Agency specs: the shipped ones load; bad ones fail with file, field and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ctdata import settings
from ctdata.errors import SpecError
from ctdata.specs import load_agency, load_all

AGENCIES = settings.current().agencies_dir


def _write(tmp_path: Path, data: dict, name: str | None = None) -> Path:
    path = tmp_path / f"{name or data.get('code', 'bad')}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def ocme() -> dict:
    return yaml.safe_load((AGENCIES / "ocme.yaml").read_text())


def test_shipped_specs_load() -> None:
    specs = load_all(AGENCIES)
    assert specs.errors == []
    codes = {agency.code for agency in specs.agencies}
    assert {"ocme", "opm"} <= codes
    ocme = next(a for a in specs.agencies if a.code == "ocme")
    towns = ocme.dataset("deaths_by_town")
    assert towns.aggregation is not None and towns.aggregation.threshold == 5
    assert towns.row_identifier == "cell_id"
    assert towns.effective_schedule == "0 6 1 1 *"  # Annually
    assert {a.dag_id for a in specs.agencies} >= {"publish_ocme", "publish_opm"}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["datasets"][0].update(portal_id="ABC-123"),
            "datasets[0] (deaths_by_town).portal_id: 'ABC-123' is not a portal id",
        ),
        (
            lambda d: d["datasets"][0]["metadata"].update(category="Health"),
            "datasets[0] (deaths_by_town).metadata.category: 'Health' is not allowed",
        ),
        (
            lambda d: d["datasets"][1]["metadata"].pop("update_frequency"),
            "datasets[1] (deaths_records).metadata.update_frequency: required field is missing",
        ),
        (
            lambda d: d["datasets"][0].update(row_identifier="nope"),
            "row_identifier 'nope' is not one of the columns' fields",
        ),
        (
            lambda d: d["datasets"][0]["source"].update(colour="red"),
            "datasets[0] (deaths_by_town).source.colour: unknown field",
        ),
        (
            lambda d: d["datasets"][1].update(slug="deaths_by_town"),
            "datasets: slug used twice: deaths_by_town",
        ),
        (
            lambda d: d["datasets"][0]["publish"].update(method="append"),
            "publish.method 'append' is for datasets without a row_identifier",
        ),
        (
            lambda d: d["data_officer"].update(email="not-an-email"),
            "data_officer.email: String should match pattern",
        ),
    ],
)
def test_bad_spec_names_file_field_and_reason(
    tmp_path: Path, ocme: dict, mutate, expected: str
) -> None:
    mutate(ocme)
    path = _write(tmp_path, ocme)
    with pytest.raises(SpecError) as raised:
        load_agency(path)
    message = str(raised.value)
    assert str(path) in message
    assert expected in message


def test_code_must_match_file_name(tmp_path: Path, ocme: dict) -> None:
    path = _write(tmp_path, ocme, name="medical_examiner")
    with pytest.raises(SpecError, match="code: 'ocme' must match the file name"):
        load_agency(path)


def test_yaml_syntax_error_names_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("code: broken\ndatasets: [\n")
    with pytest.raises(SpecError, match=r"broken\.yaml: not valid YAML"):
        load_agency(path)


def test_one_bad_spec_does_not_hide_the_others(tmp_path: Path, ocme: dict) -> None:
    _write(tmp_path, ocme)
    broken = dict(ocme, code="broken")
    broken["datasets"] = []
    _write(tmp_path, broken)
    specs = load_all(tmp_path)
    assert [a.code for a in specs.agencies] == ["ocme"]
    assert len(specs.errors) == 1 and "broken.yaml: datasets" in str(specs.errors[0])
