"""Generate the demo datasets' suites as GX 1.x JSON in expectations/ (run once, commit the JSON).

    .venv/bin/python tools/build_suites.py [--out DIR] [--check]

The JSON files are the source of truth people edit; this script documents how they were made
and `--check` (used by the tests) reports drift between the code and the committed files.
Values known only at run time are GX suite parameters, `{"$PARAMETER": name}`, which
`ctdata.validation.run_suites(..., parameters={name: value})` fills in.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from ctdata import settings

TOTAL = "Total"
UNKNOWN = "Unknown"
YEARS = list(range(2012, 2019))
SEXES = ["Male", "Female", UNKNOWN]
AGE_GROUPS = ["Under 20", "20-29", "30-39", "40-49", "50-59", "60-69", "70 and over", UNKNOWN]
SUPPRESSED = "Suppressed"  # the label the records' small-group suppression writes
QUASI_IDENTIFIERS = ["year", "age_group", "sex"]
DRUG_FLAGS = [
    "heroin",
    "cocaine",
    "fentanyl",
    "fentanyl_analogue",
    "oxycodone",
    "ethanol",
    "benzodiazepine",
    "methadone",
    "any_opioid",
]
COUNTIES = [
    "Fairfield",
    "Hartford",
    "Litchfield",
    "Middlesex",
    "New Haven",
    "New London",
    "Tolland",
    "Windham",
]
UNMAPPED_TOWN_TOLERANCE = 0.97
POPULATION_AUDIT = "population_audit"  # the joint audit's verdict, filled the same way
SUPPRESSION_SPEC = "suppression_spec"  # the suite parameter the pipeline's validate steps fill

Expectation = dict[str, Any]


def _read_reference(name: str) -> list[dict[str, str]]:
    text = resources.files("ctdata").joinpath("data", name).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(text.splitlines()))


def ct_towns() -> list[str]:
    """The 169 Connecticut towns, from include/ctdata/data/ct_towns.csv."""
    return [row["town"].strip() for row in _read_reference("ct_towns.csv")]


def town_counties() -> list[list[str]]:
    """(town, county) pairs from include/ctdata/data/ct_town_county.csv."""
    return [[r["town"].strip(), r["county"].strip()] for r in _read_reference("ct_town_county.csv")]


def expect(exp_type: str, meta_note: str | None = None, **kwargs: Any) -> Expectation:
    entry: Expectation = {"type": exp_type, "kwargs": kwargs}
    if meta_note:
        entry["meta"] = {"notes": meta_note}
    return entry


def parameter(name: str) -> dict[str, str]:
    """A GX suite parameter: the value is given when the suite is run."""
    return {"$PARAMETER": name}


def not_null(column: str) -> Expectation:
    return expect("expect_column_values_to_not_be_null", column=column)


def in_set(column: str, values: list[Any], **kwargs: Any) -> Expectation:
    return expect("expect_column_values_to_be_in_set", column=column, value_set=values, **kwargs)


def has_rows() -> Expectation:
    return expect(
        "expect_table_row_count_to_be_between",
        min_value=1,
        meta_note="An empty extract would pass every column rule: refuse it.",
    )


def ocme_deaths_source() -> list[Expectation]:
    return [
        has_rows(),
        not_null("case_id"),
        expect("expect_column_values_to_be_unique", column="case_id"),
        not_null("year"),
        expect("expect_column_values_to_be_between", column="year", min_value=2012, max_value=2018),
        not_null("sex"),
        in_set("sex", SEXES),
        not_null("death_town"),
        in_set(
            "death_town",
            ct_towns(),
            mostly=UNMAPPED_TOWN_TOLERANCE,
            meta_note="'Unknown' (a place not mapped to a CT town) is deliberately not in the "
            "set: more than 3% unmapped places fails the suite and needs the mapping fixed.",
        ),
        expect("expect_column_values_to_be_between", column="age", min_value=0, max_value=110),
    ]


def ocme_deaths_by_town_publishable() -> list[Expectation]:
    towns = [*ct_towns(), UNKNOWN, TOTAL]
    years = [str(y) for y in YEARS] + [TOTAL]
    return [
        expect(
            "expect_table_columns_to_match_set",
            column_set=["town", "year", "sex", "deaths", "deaths_suppressed", "cell_id"],
            exact_match=True,
        ),
        expect("expect_column_values_to_not_be_small_counts", column="deaths", threshold=5),
        expect(
            "expect_table_disclosure_audit_to_pass",
            suppression_spec=parameter(SUPPRESSION_SPEC),
            meta_note="The pipeline passes the dataset's suppression spec as a suite parameter.",
        ),
        expect(
            "expect_population_disclosure_audit_to_pass",
            population_audit=parameter(POPULATION_AUDIT),
            meta_note="The validation step audits the dataset's population (its linked tables) "
            "over every release and passes the verdict.",
        ),
        not_null("cell_id"),
        expect("expect_column_values_to_be_unique", column="cell_id"),
        expect("expect_compound_columns_to_be_unique", column_list=["town", "year", "sex"]),
        not_null("town"),
        in_set("town", towns),
        not_null("year"),
        in_set("year", years),
        not_null("sex"),
        in_set("sex", [*SEXES, TOTAL]),
        not_null("deaths_suppressed"),
        in_set("deaths_suppressed", [True, False]),
        expect(
            "expect_column_values_to_not_be_null",
            column="deaths",
            row_condition="deaths_suppressed == False",
            condition_parser="pandas",
            meta_note="Only suppressed cells may be empty.",
        ),
        expect(
            "expect_column_values_to_be_null",
            column="deaths",
            row_condition="deaths_suppressed == True",
            condition_parser="pandas",
            meta_note="A cell flagged suppressed must not publish its value.",
        ),
        expect("expect_column_values_to_be_between", column="deaths", min_value=0),
        expect("expect_table_row_count_to_equal", value=len(towns) * len(years) * 4),
    ]


def ocme_deaths_records_publishable() -> list[Expectation]:
    columns = ["record_id", "year", "age_group", "sex", *DRUG_FLAGS]
    expectations = [
        expect(
            "expect_table_columns_to_match_set",
            column_set=columns,
            exact_match=True,
            meta_note="De-identified: no date, town, name or other column may be added.",
        ),
        not_null("record_id"),
        expect("expect_column_values_to_be_unique", column="record_id"),
        expect("expect_column_values_to_match_regex", column="record_id", regex=r"^[0-9a-f]{16}$"),
        not_null("year"),
        in_set("year", YEARS),
        not_null("age_group"),
        in_set("age_group", [*AGE_GROUPS, SUPPRESSED]),
        not_null("sex"),
        in_set("sex", [*SEXES, SUPPRESSED]),
        expect(
            "expect_table_group_sizes_to_be_at_least",
            columns=QUASI_IDENTIFIERS,
            min_size=6,
            meta_note="Privacy gate: no row stands for 1 to 5 people sharing year, age group, sex.",
        ),
        expect(
            "expect_population_disclosure_audit_to_pass",
            population_audit=parameter(POPULATION_AUDIT),
            meta_note="The validation step audits the dataset's population (its linked tables) "
            "over every release and passes the verdict.",
        ),
    ]
    for flag in DRUG_FLAGS:
        expectations += [
            not_null(flag),
            in_set(flag, [True, False]),
        ]
    return expectations


def ocme_deaths_records_source() -> list[Expectation]:
    """The record-level frame after extract and pseudonymization, before it is conformed."""
    expectations = [
        has_rows(),
        not_null("record_id"),
        expect("expect_column_values_to_be_unique", column="record_id"),
        not_null("year"),
        expect("expect_column_values_to_be_between", column="year", min_value=2012, max_value=2018),
        not_null("age_group"),
        in_set("age_group", [*AGE_GROUPS, SUPPRESSED]),
        not_null("sex"),
        in_set("sex", [*SEXES, SUPPRESSED]),
    ]
    for flag in DRUG_FLAGS:
        expectations += [not_null(flag), in_set(flag, [0, 1])]
    return expectations


def opm_towns_publishable() -> list[Expectation]:
    return [
        expect("expect_table_row_count_to_equal", value=169),
        not_null("town"),
        expect("expect_column_values_to_be_unique", column="town"),
        in_set("town", ct_towns()),
        not_null("county"),
        in_set("county", COUNTIES),
        expect(
            "expect_column_pair_values_to_be_in_set",
            column_A="town",
            column_B="county",
            value_pairs_set=town_counties(),
            meta_note="Each town in its county, per include/ctdata/data/ct_town_county.csv.",
        ),
    ]


def opm_county_boundaries_publishable() -> list[Expectation]:
    """The eight county boundaries, reprojected to longitude/latitude, each a valid shape."""
    return [
        expect("expect_table_row_count_to_equal", value=len(COUNTIES)),
        not_null("geoid"),
        expect("expect_column_values_to_be_unique", column="geoid"),
        expect("expect_column_values_to_match_regex", column="geoid", regex=r"^09\d{3}$"),
        not_null("county"),
        in_set("county", COUNTIES),
        not_null("the_geom"),
        expect(
            "expect_column_values_to_be_valid_geometry",
            column="the_geom",
            geometry_type="multipolygon",
            meta_note="OGC-valid multipolygons in longitude/latitude (ctdata.validation.geometry).",
        ),
    ]


SUITES: dict[str, Callable[[], list[Expectation]]] = {
    "ocme_deaths_source": ocme_deaths_source,
    "ocme_deaths_by_town_publishable": ocme_deaths_by_town_publishable,
    "ocme_deaths_records_source": ocme_deaths_records_source,
    "ocme_deaths_records_publishable": ocme_deaths_records_publishable,
    "opm_towns_publishable": opm_towns_publishable,
    "opm_county_boundaries_publishable": opm_county_boundaries_publishable,
}


def suite_json(name: str) -> dict[str, Any]:
    """The suite as GX writes it: built through GX so the JSON is what `to_json_dict` gives."""
    import great_expectations as gx

    from ctdata.validation.suites import build_expectations

    entries = SUITES[name]()
    expectations = build_expectations({"expectations": entries}, Path(f"<generated {name}>"))
    suite = gx.ExpectationSuite(
        name=name,
        expectations=expectations,
        meta={"generated_by": "tools/build_suites.py"},
    )
    data = suite.to_json_dict()
    data["meta"].pop("great_expectations_version", None)  # keep files stable across GX versions
    for written, entry in zip(data["expectations"], entries, strict=True):
        # GX omits kwargs equal to their defaults; keep them visible for people editing by hand.
        written["kwargs"] = {**entry["kwargs"], **written["kwargs"]}
    return data


def render(name: str) -> str:
    return json.dumps(suite_json(name), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=settings.current().expectations_dir)
    parser.add_argument("--check", action="store_true", help="report files that differ")
    args = parser.parse_args(argv)
    stale = []
    for name in SUITES:
        path = args.out / f"{name}.json"
        text = render(name)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    for path in stale:
        print(f"out of date: {path}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
