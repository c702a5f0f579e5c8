"""The staging area written batch by batch: one schema for the file whatever each batch's
inferred types, a batch that cannot fit it named by column and rows, an empty source still a
valid file, and the file read back batch by batch."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from ctdata.errors import SourceError
from ctdata.staging import Staging


@pytest.fixture
def staging(tmp_path, monkeypatch) -> Staging:
    monkeypatch.setenv("CTDATA_BATCH_ROWS", "2")
    return Staging(root=f"file://{tmp_path}")


def test_batches_are_staged_in_the_first_batch_types(staging: Staging) -> None:
    batches = [
        pd.DataFrame({"id": ["a", "b"], "year": [2012, 2013], "note": [None, None]}),
        pd.DataFrame({"id": ["c"], "year": [float("nan")], "note": ["late"]}),  # NaN: float
        pd.DataFrame({"id": ["d"], "year": [2015]}),  # a page without the optional column
    ]
    path = staging.path("ocme", "records", "run", "source")
    staged = staging.write_batches(
        iter(batches), path, label="dataset 'records'", types={"note": pa.string()}
    )
    assert (staged.rows, staged.columns) == (4, ["id", "year", "note"])
    whole = staging.read_frame(staged.path)
    assert whole["id"].tolist() == ["a", "b", "c", "d"]
    assert whole["year"].tolist()[:2] == [2012, 2013] and pd.isna(whole["year"][2])
    assert whole["note"].tolist()[2] == "late" and pd.isna(whole["note"][3])
    read = list(staging.iter_frames(staged.path))
    assert [len(f) for f in read] == [2, 2]  # batch_rows at a time
    assert pd.concat(read, ignore_index=True).equals(whole)


def test_a_batch_that_cannot_take_the_column_type_names_the_column_and_rows(staging) -> None:
    batches = [pd.DataFrame({"amount": [1, 2]}), pd.DataFrame({"amount": [3.0, 4.5]})]
    path = staging.path("ocme", "records", "run", "source")
    with pytest.raises(SourceError, match=r"column 'amount' holds int64 .* rows 3-4"):
        staging.write_batches(iter(batches), path, label="dataset 'records'")


def test_a_column_first_seen_after_the_first_batch_is_named(staging) -> None:
    batches = [pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [2], "b": ["x"]})]
    path = staging.path("ocme", "records", "run", "source")
    with pytest.raises(SourceError, match=r"column\(s\) b appear in rows 2-2"):
        staging.write_batches(iter(batches), path, label="dataset 'records'")


def test_an_empty_source_stages_a_valid_empty_file(staging) -> None:
    path = staging.path("ocme", "records", "run", "source")
    staged = staging.write_batches(iter([]), path, label="dataset 'records'")
    assert (staged.rows, staged.columns) == (0, [])
    assert staging.read_frame(staged.path).empty
    assert [f.empty for f in staging.iter_frames(staged.path)] == [True]
