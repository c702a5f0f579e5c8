"""A hostile source for the end-to-end markup tests: OPM's spec as the template for an agency
`probe` whose CSV has a column named as an HTML tag and a value carrying a script, and a source
suite that fails on both (the page shows the columns it found; the mean of a text column raises
an exception whose message quotes the values)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import yaml

from ctdata import settings

MARKUP_COLUMN = "<img src=x onerror=\"document.title='XSS'\">"
MARKUP_VALUE = "<script>document.title='XSS2'</script>"
CASE_NUMBER = "14-0273"
PROBE_ID = "prob-e001"
SUITE = [
    {"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": ["town", "county"]}},
    {"type": "expect_column_values_to_be_in_set",
     "kwargs": {"column": "county", "value_set": ["Hartford County"]}},
    {"type": "expect_column_mean_to_be_between",
     "kwargs": {"column": "county", "min_value": 0, "max_value": 5}},
]  # fmt: skip


def write_probe_agency(folder: Path, sources: Path) -> Path:
    """`folder`/agencies/probe.yaml and `folder`/expectations/probe_source.json; the CSV in
    `sources`."""
    csv_path = sources / "probe.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["town", "county", MARKUP_COLUMN])
        writer.writerows([["Avon", MARKUP_VALUE, "1"], ["Berlin", CASE_NUMBER, "2"]])
    raw = yaml.safe_load((settings.current().agencies_dir / "opm.yaml").read_text())
    dataset = raw["datasets"][0]
    dataset.update(slug="probe", portal_id=PROBE_ID)
    dataset["metadata"]["title"] = "Towns Reported by a Hostile Source"
    dataset["source"]["path"] = str(csv_path)
    dataset["expectations"] = {"source": ["probe_source"], "publishable": ["probe_source"]}
    raw.update(code="probe", name="Markup Probe Agency", access_plan=[], datasets=[dataset])
    (folder / "agencies").mkdir(parents=True)
    (folder / "agencies" / "probe.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    (folder / "expectations").mkdir()
    suite = json.dumps({"name": "probe_source", "expectations": SUITE})
    (folder / "expectations" / "probe_source.json").write_text(suite)
    return folder
