"""Generated agency specs for the scale benchmarks: N agencies x M record-level datasets read
from CSV files, each with a Great Expectations suite, valid under the real spec models."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import yaml

SUITE = "bench_records"
COLUMNS = [
    {"name": "Record ID", "field": "record_id", "type": "text", "description": "Unique record key"},
    {"name": "Town", "field": "town", "type": "text", "description": "Town of the record"},
    {"name": "Year", "field": "year", "type": "number", "description": "Year of the record"},
    {"name": "Amount", "field": "amount", "type": "number", "description": "Amount in dollars"},
    {"name": "Category", "field": "category", "type": "text", "description": "Kind of record"},
]


def portal_id(prefix: str, agency: int, dataset: int) -> str:
    return f"{prefix[:1]}{agency:03d}-d{dataset:03d}"


def dataset_spec(prefix: str, agency: int, dataset: int, csv_path: str) -> dict[str, Any]:
    return {
        "slug": f"records_{dataset:02d}",
        "portal_id": portal_id(prefix, agency, dataset),
        "metadata": {
            "title": f"Generated records {agency}-{dataset}",
            "description": (
                "Synthetic records made for the benchmarks of the publication pipeline. Each "
                "row holds one generated record with its town, year, amount and category. The "
                "values are random and describe nothing real; use them only to measure the "
                "pipeline."
            ),
            "category": "Government",
            "tags": ["benchmark"],
            "row_label": "Record",
            "source_link": "https://portal.ct.gov/opm",
            "geographic_unit": "Municipality",
            "temporal_coverage": "2020 - 2024",
            "attribution": "Office of Policy and Management",
            "contact_email": "opm.data@ct.gov",
            "update_frequency": "Daily",
        },
        "source": {"kind": "csv", "path": csv_path},
        "columns": COLUMNS,
        "row_identifier": "record_id",
        "publish": {"method": "sync"},
        "expectations": {"source": [SUITE], "publishable": [SUITE]},
    }


def write_agencies(
    folder: Path, prefix: str, agencies: int, datasets: int, csv_path: str = "records.csv"
) -> list[str]:
    """Write `<prefix>_<nnn>.yaml` specs; return the DAG ids."""
    folder.mkdir(parents=True, exist_ok=True)
    dag_ids = []
    for a in range(1, agencies + 1):
        code = f"{prefix}_{a:03d}"
        spec = {
            "code": code,
            "name": f"Generated agency {a}",
            "data_officer": {"name": "Bench Data Officer", "email": "opm.data@ct.gov"},
            "owner": "opm-data-team",
            "datasets": [dataset_spec(prefix, a, d, csv_path) for d in range(1, datasets + 1)],
        }
        (folder / f"{code}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        dag_ids.append(f"publish_{code}")
    return dag_ids


def write_records_csv(path: Path, rows: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    towns = ["Hartford", "New Haven", "Stamford", "Waterbury", "Norwalk", "Danbury", "Windham"]
    lines = ["record_id,town,year,amount,category"]
    lines += [
        f"R{i:07d},{rng.choice(towns)},{rng.randint(2020, 2024)},{rng.randint(1, 99999) / 100},"
        f"{rng.choice('ABCDE')}"
        for i in range(rows)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def write_suite(folder: Path) -> None:
    expectations = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "record_id"}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "record_id"}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "year", "min_value": 2020, "max_value": 2024}},
    ]  # fmt: skip
    suite = {"name": SUITE, "id": None, "expectations": expectations, "meta": {}, "notes": None}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{SUITE}.json").write_text(json.dumps(suite, indent=2))
