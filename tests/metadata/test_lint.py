"""`ctdata lint`: the project's specs meet the state's metadata guidelines, and a spec that
breaks them gets every problem reported at once with file, dataset and field."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

from ctdata import settings
from ctdata.cli import main
from ctdata.cli.lint import config_models, project_specs
from ctdata.errors import SpecError
from ctdata.specs import load_agency
from ctdata.specs.lint import lint_file, lint_paths, require_standard_metadata

OCME = settings.current().agencies_dir / "ocme.yaml"
TODAY = dt.date(2025, 6, 1)


@pytest.fixture
def ocme() -> dict:
    return yaml.safe_load(OCME.read_text())


def _write(tmp_path: Path, data: dict, name: str = "ocme") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _found(problems, dataset: str, field: str, text: str) -> bool:
    return any(p.dataset == dataset and p.field == field and text in p.message for p in problems)


def test_project_specs_meet_the_standard() -> None:
    """The same check `make test` makes for every spec the project ships."""
    report = lint_paths(project_specs(), configs=config_models())
    assert len(report.files) >= 4  # both agencies, the usage metrics and the registers
    assert report.problems == [], "\n".join(map(str, report.problems))


def test_every_problem_is_reported_at_once(tmp_path: Path, ocme: dict) -> None:
    towns, records = ocme["datasets"][:2]  # deaths_by_town, deaths_records
    towns["metadata"]["title"] = "OCME Deaths by Town"
    towns["metadata"]["category"] = "Health and Human Service"  # misspelt: a schema error
    towns["metadata"]["description"] += " Data comes from the CME system, with inmates included."
    towns["metadata"]["row_label"] = " "
    towns["metadata"]["source_link"] = "http://portal.ct.gov/ocme"
    towns["metadata"]["contact_email"] = "someone@gmail.com"
    towns["metadata"]["tags"] = ["Overdose", "overdose"]
    towns["columns"][1]["description"] = "Year"
    towns["columns"][2]["name"] = "Town"
    towns["columns"][3]["field"] = "order"
    records["metadata"]["temporal_coverage"] = "recent years"
    ocme["access_plan"].append({"title": "Something planned"})
    problems = lint_file(_write(tmp_path, ocme), today=TODAY)

    assert _found(problems, "deaths_by_town", "metadata.category", "did you mean 'Health and Human Services'")  # fmt: skip
    assert _found(problems, "deaths_by_town", "metadata.title", "acronym 'OCME'")
    assert _found(problems, "deaths_by_town", "metadata.description", "acronym 'CME' is not explained")  # fmt: skip
    assert _found(problems, "deaths_by_town", "metadata.description", "person-first")
    assert _found(problems, "deaths_by_town", "metadata.row_label", "blank")
    assert _found(problems, "deaths_by_town", "metadata.source_link", "https")
    assert _found(problems, "deaths_by_town", "metadata.contact_email", "team mailbox")
    assert _found(problems, "deaths_by_town", "metadata.tags[0]", "lower case")
    assert _found(problems, "deaths_by_town", "metadata.tags[1]", "given twice")
    assert _found(problems, "deaths_by_town", "columns[1] (year).description", "only repeats")
    assert _found(problems, "deaths_by_town", "columns[2] (sex).name", "also the name of columns[0]")  # fmt: skip
    assert _found(problems, "deaths_by_town", "columns[3] (order).field", "SoQL keyword")
    assert _found(problems, "deaths_records", "metadata.temporal_coverage", "not an interval")
    assert _found(problems, "(agency)", "access_plan[3]", "no target_date")
    assert all(p.file == str(tmp_path / "ocme.yaml") for p in problems)


def test_explained_acronyms_pass(tmp_path: Path, ocme: dict) -> None:
    meta = ocme["datasets"][0]["metadata"]
    meta["description"] += " Counts are kept by the Office of the Chief Medical Examiner (OCME)."
    ocme["datasets"][0]["columns"][0]["description"] += "; as the OCME records it"
    assert lint_file(_write(tmp_path, ocme), today=TODAY) == []


def test_temporal_coverage_auto_needs_a_date_or_year_column(tmp_path: Path, ocme: dict) -> None:
    ocme["datasets"][0]["metadata"]["temporal_coverage"] = "auto"  # has a 'year' column
    ocme["datasets"][0]["metadata"]["temporal_coverage"] = "auto"
    assert lint_file(_write(tmp_path, ocme), today=TODAY) == []
    opm = yaml.safe_load((settings.current().agencies_dir / "opm.yaml").read_text())
    opm["datasets"][0]["metadata"]["temporal_coverage"] = "auto"  # towns: no date, no year
    problems = lint_file(_write(tmp_path, opm, "opm"), today=TODAY)
    assert _found(problems, "towns", "metadata.temporal_coverage", "'auto' needs a column")


def test_retire_block_checks(tmp_path: Path, ocme: dict) -> None:
    ocme["datasets"][0]["retire"] = {
        "reason": "discontinued, consolidated or replaced",
        "notice_date": "2025-05-01",
    }
    ocme["datasets"][0]["metadata"]["title"] = "ARCHIVE: Accidental Drug Related Deaths"
    problems = lint_file(_write(tmp_path, ocme), today=TODAY)
    assert _found(problems, "deaths_by_town", "retire.replacement", "link the dataset")
    assert _found(problems, "deaths_by_town", "metadata.title", "retirement process")


def test_a_spec_that_does_not_validate_still_gets_guideline_problems(
    tmp_path: Path, ocme: dict
) -> None:
    del ocme["datasets"][1]["metadata"]["update_frequency"]
    ocme["datasets"][1]["columns"][0]["description"] = "ID"
    ocme["datasets"][1]["metadata"]["title"] = "DEATHS"
    problems = lint_file(_write(tmp_path, ocme), today=TODAY)
    assert _found(problems, "deaths_records", "metadata.update_frequency", "required field")
    assert _found(problems, "deaths_records", "columns[0] (record_id).description", "only repeats")  # fmt: skip
    assert _found(problems, "deaths_records", "metadata.title", "capitals")


def test_cli_lists_problems_and_exits_non_zero(
    tmp_path: Path, ocme: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path, ocme)
    assert main(["lint", str(good)]) == 0
    assert "no problems" in capsys.readouterr().out
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    ocme["datasets"][0]["metadata"]["title"] = "Deaths Reported to the DMHAS Helpline"
    bad = _write(bad_dir, ocme)
    assert main(["lint", str(good), str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{bad}: deaths_by_town: metadata.title: uses the acronym 'DMHAS'" in out[0]
    assert out[-1] == "1 problem(s) in 1 of 2 spec file(s)."


def test_publishing_refuses_metadata_below_the_standard(ocme: dict, tmp_path: Path) -> None:
    agency = load_agency(OCME)
    for dataset in agency.datasets:
        require_standard_metadata(agency, dataset)  # the shipped specs pass
    bad = copy.deepcopy(ocme)
    bad["datasets"][0]["metadata"]["description"] += " Counts of inmates are not included."
    agency = load_agency(_write(tmp_path, bad))
    with pytest.raises(SpecError) as raised:
        require_standard_metadata(agency, agency.datasets[0])
    assert "deaths_by_town" in str(raised.value) and "person-first" in str(raised.value)
