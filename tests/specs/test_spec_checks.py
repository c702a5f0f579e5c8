"""Checks before work on the spec itself: "did you mean" from the models' own field names, the
README's field reference kept in step with the models, one dataset's mistake costing only that
dataset, and what `ctdata lint` finds that would otherwise fail at run time."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from ctdata import settings
from ctdata.errors import SpecError
from ctdata.specs import load_agency, load_all
from ctdata.specs.lint import lint_file
from ctdata.specs.loader import read_agency
from ctdata.specs.reference import BEGIN, END, reference_markdown

AGENCIES = settings.current().agencies_dir


@pytest.fixture
def ocme() -> dict:
    return yaml.safe_load((AGENCIES / "ocme.yaml").read_text())


def _write(tmp_path: Path, data: dict, name: str = "ocme") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["datasets"][0].update(portl_id="abcd-1234"),
         "datasets[0] (deaths_by_town).portl_id: unknown field 'portl_id': did you mean 'portal_id'?"),
        (lambda d: d["datasets"][1]["source"].update(qurey="SELECT 1"),
         "source.qurey: unknown field 'qurey': did you mean 'query'?"),
        (lambda d: d["datasets"][0]["aggregation"].update(treshold=5),
         "aggregation.treshold: unknown field 'treshold': did you mean 'threshold'?"),
        (lambda d: d["datasets"][0]["columns"][0].update(descripton="x"),
         "did you mean 'description'?"),
        (lambda d: d.update(data_oficer=d["data_officer"]),
         "unknown field 'data_oficer': did you mean 'data_officer'?"),
    ],
)  # fmt: skip
def test_an_unknown_field_says_what_it_probably_is(tmp_path, ocme, mutate, expected) -> None:
    mutate(ocme)
    with pytest.raises(SpecError) as raised:
        load_agency(_write(tmp_path, ocme))
    assert expected in str(raised.value)
    assert "Spec reference" in str(raised.value)


def test_the_readme_holds_the_spec_reference_the_messages_point_to() -> None:
    readme = (settings.PROJECT_ROOT / "README.md").read_text()
    assert "## Spec reference" in readme
    section = readme[readme.index(BEGIN) : readme.index(END) + len(END)]
    assert section == reference_markdown(), "README is behind: ctdata schema --reference"
    for field in ("portal_id", "row_identifier", "count_column", "cell_id_column", "paging"):
        assert f"| `{field}` |" in section


def test_a_typo_in_one_dataset_leaves_the_others(tmp_path, ocme) -> None:
    ocme["datasets"][1]["metadata"]["update_frequency"] = "Sometimes"
    read = read_agency(_write(tmp_path, ocme))
    assert [d.slug for d in read.invalid] == ["deaths_records"]
    assert "update_frequency" in str(read.invalid[0].error)
    slugs = [d.slug for d in read.agency.datasets]
    assert "deaths_records" not in slugs and "deaths_by_town" in slugs
    with pytest.raises(SpecError, match="update_frequency"):  # strict where asked
        load_agency(tmp_path / "ocme.yaml")
    assert load_agency(tmp_path / "ocme.yaml", skip_invalid_datasets=True).datasets
    specs = load_all(tmp_path)
    assert [a.code for a in specs.agencies] == ["ocme"]
    assert [d.slug for d in specs.invalid_datasets] == ["deaths_records"]


def test_an_agency_level_mistake_invalidates_the_whole_spec(tmp_path, ocme) -> None:
    ocme["data_officer"]["email"] = "nope"
    with pytest.raises(SpecError, match="data_officer.email"):
        read_agency(_write(tmp_path, ocme))


def _lint(tmp_path: Path, ocme: dict) -> list:
    return lint_file(_write(tmp_path, ocme))


def test_lint_finds_a_suite_that_does_not_exist_or_does_not_load(tmp_path, ocme, monkeypatch):
    suites = tmp_path / "expectations"
    shutil.copytree(settings.current().expectations_dir, suites)
    (suites / "broken.json").write_text(
        '{"name": "broken", "expectations": [{"type": "expect_column_to_be_nice", "kwargs": {}}]}'
    )
    monkeypatch.setenv("CTDATA_EXPECTATIONS_DIR", str(suites))
    ocme["datasets"][0]["expectations"]["source"] = ["no_such_suite"]
    ocme["datasets"][1]["expectations"]["publishable"] = ["broken"]
    ocme["datasets"][2]["expectations"]["source"] = []
    problems = _lint(tmp_path, ocme)
    found = {(p.dataset, p.field): p.message for p in problems}
    assert (
        "not found (suite 'no_such_suite')" in found[("deaths_by_town", "expectations.source[0]")]
    )
    assert (
        "Unknown expectation type 'expect_column_to_be_nice'"
        in found[("deaths_records", "expectations.publishable[0]")]
    )
    assert "no suite named" in found[("deaths_by_age", "expectations.source")]


def test_lint_finds_aggregation_outputs_not_declared_as_the_table_needs(tmp_path, ocme) -> None:
    towns = ocme["datasets"][0]
    towns["columns"] = [c for c in towns["columns"] if c["field"] != "deaths"]
    year = next(c for c in towns["columns"] if c["field"] == "year")
    year["type"] = "number"  # holds 'Total' too
    towns["columns"].append(copy.deepcopy(year) | {"name": "Extra", "field": "extra"})
    by_age = ocme["datasets"][2]
    by_age["columns"] = [c for c in by_age["columns"] if c["field"] != "cell_id"]
    by_age["row_identifier"] = None
    by_age["publish"] = {"method": "replace"}
    problems = _lint(tmp_path, ocme)
    messages = [f"{p.dataset}: {p.field}: {p.message}" for p in problems]
    text = "\n".join(messages)
    assert "deaths_by_town: columns: the aggregation's count_column 'deaths' is not declared: " \
           "add {name: ..., field: deaths, type: number" in text  # fmt: skip
    assert "'year' holds the aggregation's text values (dimensions hold the total label)" in text
    assert "'extra' is not produced by the aggregation" in text
    assert "deaths_by_age: aggregation.cell_id_column: the aggregation builds 'cell_id'" in text


def test_the_shipped_specs_pass_the_run_time_checks() -> None:
    for path in sorted(AGENCIES.glob("*.yaml")):
        assert lint_file(path) == [], path
