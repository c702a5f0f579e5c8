"""A value that cannot be its column's type fails the read at once, naming the dataset, the
column, the row as a person counts it and, for a table published as it is, the value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from ctdata.errors import SourceError, SourceValueError, retry_can_help
from ctdata.lifecycle.publication import conform
from ctdata.sources import extract
from ctdata.specs.models import DatasetSpec

METADATA = {
    "title": "Connecticut Trail Counts",
    "description": "Counts of people using state park trails, for testing extraction.",
    "category": "Environment and Natural Resources",
    "tags": ["trails"],
    "row_label": "Trail and year",
    "source_link": "https://portal.ct.gov/deep",
    "geographic_unit": "Municipality",
    "temporal_coverage": "2020 - 2023",
    "attribution": "Department of Energy and Environmental Protection",
    "contact_email": "deep.opendata@ct.gov",
    "update_frequency": "Annually",
}
COLUMNS = [
    {"name": "Trail", "field": "trail", "type": "text", "description": "Trail name"},
    {"name": "Year", "field": "year", "type": "number", "description": "Calendar year"},
    {"name": "Visits", "field": "visits", "type": "number", "description": "Visits counted"},
]


def _dataset(source: dict, **extra) -> DatasetSpec:
    return DatasetSpec.model_validate(
        {
            "slug": "trails",
            "metadata": METADATA,
            "columns": COLUMNS,
            "source": source,
            "row_identifier": "trail",
            **extra,
        }  # fmt: skip
    )


def _csv(tmp_path: Path, bad_row: int, value: str) -> Path:
    rows = [f"Trail {i},2023,{value if i == bad_row else i * 10}" for i in range(1, 11)]
    path = tmp_path / "trails.csv"
    path.write_text("trail,year,visits\n" + "\n".join(rows) + "\n")
    return path


def test_a_number_column_holding_a_word_names_the_row_as_a_person_counts(tmp_path) -> None:
    path = _csv(tmp_path, bad_row=8, value="two")
    with pytest.raises(SourceValueError) as raised:
        extract(_dataset({"kind": "csv", "path": str(path)}))
    error = raised.value
    assert (error.dataset, error.column, error.row, error.value) == ("trails", "visits", 8, "two")
    message = str(error)
    assert "dataset 'trails'" in message and "column 'visits'" in message
    assert "row 8 of the file (line 9, after the header)" in message and "'two'" in message
    assert "declared 'number'" in message
    assert not retry_can_help(error), "a wrong value is wrong at every attempt"


def test_a_private_source_keeps_its_value_out_of_the_message(tmp_path) -> None:
    path = _csv(tmp_path, bad_row=3, value="Jane Doe")
    private = _dataset({"kind": "csv", "path": str(path)}, public=False)
    with pytest.raises(SourceValueError) as raised:
        extract(private)
    assert raised.value.row == 3 and raised.value.value is None
    assert "Jane Doe" not in str(raised.value) and "not shown" in str(raised.value)


def test_numbers_and_text_mixed_in_a_sql_column_are_refused_before_staging(tmp_path) -> None:
    """SQLite keeps '2O23' in an INTEGER column: pandas reads ints and a str, which pyarrow
    cannot stage (ArrowInvalid, retried three times over 15 minutes before this check)."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'src.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (trail TEXT, yr INTEGER, visits INTEGER)"))
        for i, year in enumerate([2021, 2022, "2O23", 2023], start=1):
            connection.execute(
                sa.text("INSERT INTO t VALUES (:t, :y, :v)"), {"t": f"T{i}", "y": year, "v": i}
            )
    engine.dispose()
    source = {"kind": "sql", "url": f"sqlite:///{tmp_path / 'src.db'}",
              "query": "SELECT trail, yr, visits FROM t ORDER BY trail"}  # fmt: skip
    with pytest.raises(SourceValueError) as raised:
        extract(_dataset(source))
    error = raised.value
    assert (error.column, error.row) == ("yr", 3)
    assert "holds whole numbers, but row 3 of the query's result holds text" in str(error)
    assert error.value is None, "'yr' is not a published column: its value is not shown"
    # Declared as a number, the same value is named with its column type.
    declared = source | {"query": "SELECT trail, yr AS year, visits FROM t ORDER BY trail"}
    with pytest.raises(SourceValueError, match=r"column 'year' is declared 'number', but row 3"):
        extract(_dataset(declared))


def test_a_missing_sqlite_file_is_not_created_empty(tmp_path) -> None:
    missing = tmp_path / "typo.db"
    source = {"kind": "sql", "url": f"sqlite:///{missing}", "query": "SELECT * FROM t"}
    with pytest.raises(SourceError, match=r"SQLite database .*typo\.db does not exist") as raised:
        extract(_dataset(source))
    assert not missing.exists()
    assert not retry_can_help(raised.value)


def test_conform_names_the_row_of_the_table_being_published() -> None:
    dataset = _dataset({"kind": "csv", "path": "unused.csv"})
    frame = pd.DataFrame(
        {"trail": ["A", "B", "C"], "year": ["2020", "2021", "twenty"], "visits": [1, 2, 3]}
    )
    with pytest.raises(
        SourceValueError, match=r"column 'year' .* row 3 of the table holds 'twenty'"
    ):
        conform(frame, dataset)
    frame["year"] = ["2020", " ", None]  # blanks are missing values, not errors
    typed = conform(frame, dataset)
    assert typed["year"].isna().tolist() == [False, True, True]
