"""`ctdata lint` finds what would keep a population's tables from being protected together."""

from __future__ import annotations

from pathlib import Path

import yaml

from ctdata.specs.lint import lint_paths

OCME = Path(__file__).resolve().parents[2] / "include" / "agencies" / "ocme.yaml"


def _spec(tmp_path: Path, change) -> Path:  # noqa: ANN001
    raw = yaml.safe_load(OCME.read_text())
    change({d["slug"]: d for d in raw["datasets"]})
    path = tmp_path / "ocme.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _problems(path: Path) -> list[str]:
    return [f"{p.dataset}: {p.field}: {p.message}" for p in lint_paths([path]).problems]


def test_the_shipped_population_is_clean(tmp_path: Path) -> None:
    assert _problems(_spec(tmp_path, lambda d: None)) == []


def test_a_shared_dimension_with_other_categories_is_named(tmp_path: Path) -> None:
    def shorter_years(d: dict) -> None:
        d["deaths_by_age"]["aggregation"]["dimensions"][1]["range"]["stop"] = 2017

    problems = _problems(_spec(tmp_path, shorter_years))
    assert any("deaths_by_age: aggregation.dimensions[1]" in p and "'year'" in p for p in problems)


def test_k_must_exceed_the_population_threshold(tmp_path: Path) -> None:
    def small_k(d: dict) -> None:
        d["deaths_records"]["transforms"][-1]["k"] = 4

    problems = _problems(_spec(tmp_path, small_k))
    assert any("deaths_records: transforms" in p and "at least 6" in p for p in problems)


def test_datasets_reading_the_same_source_are_one_population(tmp_path: Path) -> None:
    from ctdata.specs.loader import load_agency

    def undeclared(d: dict) -> None:
        for dataset in d.values():
            dataset.pop("population", None)
        d["deaths_by_age"]["source"] = d["deaths_by_town"]["source"]

    agency = load_agency(_spec(tmp_path, undeclared))
    town, age, records = (
        agency.dataset(s) for s in ("deaths_by_town", "deaths_by_age", "deaths_records")
    )
    assert agency.population_key(town) == agency.population_key(age) == "ocme.deaths_by_town"
    assert agency.population_members(records) == [records]


def test_tables_that_protect_nobody_are_not_joined_by_their_source(tmp_path: Path) -> None:
    """A table published as is (no aggregation, no small-group rule) reading the source of a
    protected one stays alone: its failures never hold up the protected tables."""
    from ctdata.specs.loader import load_agency

    def plain_copy(d: dict) -> None:
        for dataset in d.values():
            dataset.pop("population", None)
        d["deaths_by_age"]["source"] = d["deaths_by_town"]["source"]
        d["deaths_records"]["source"] = d["deaths_by_town"]["source"]
        d["deaths_records"]["transforms"] = [
            t for t in d["deaths_records"]["transforms"] if t["kind"] != "suppress_small_groups"
        ]

    agency = load_agency(_spec(tmp_path, plain_copy))
    town, age, records = (
        agency.dataset(s) for s in ("deaths_by_town", "deaths_by_age", "deaths_records")
    )
    assert agency.population_key(town) == agency.population_key(age) == "ocme.deaths_by_town"
    assert agency.population_key(records) == "ocme.deaths_records"
