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


def _towns_run(tmp_path, monkeypatch):  # noqa: ANN202
    """A run of OPM's towns table (record level, published as it is), with a number column."""
    from ctdata import settings
    from ctdata.pipeline.run import DatasetRun
    from ctdata.specs import load_agency

    monkeypatch.setenv("CTDATA_STAGING_ROOT", f"file://{tmp_path / 'staging'}")
    monkeypatch.setenv("CTDATA_BATCH_ROWS", "2")
    opm = load_agency(settings.current().agencies_dir / "opm.yaml")
    towns = opm.dataset("towns")
    size = towns.columns[0].model_copy(update={"field": "size", "name": "Size", "type": "number"})
    towns = towns.model_copy(update={"columns": [*towns.columns, size]})
    return DatasetRun(agency=opm, dataset=towns, run_id="manual__1")


def test_a_table_published_as_it_is_is_conformed_batch_by_batch(tmp_path, monkeypatch) -> None:
    from ctdata.lifecycle.publication import conform
    from ctdata.pipeline import steps

    run = _towns_run(tmp_path, monkeypatch)
    source = pd.DataFrame({"county": ["Hartford", "Tolland", "Windham", "Hartford", "New London"],
                           "town": ["Avon", "Bolton", "Canterbury", "Dayville", "East Lyme"],
                           "size": ["1", "2.5", None, "4", "5"], "extra": list("abcde")})  # fmt: skip
    path = run.staging.path("opm", "towns", run.run_id, "source")
    batches = (source.iloc[i : i + 2] for i in range(0, 5, 2))
    extracted = run.staging.write_batches(batches, path, label="towns")
    prepared = steps.prepare_records(run, {"path": extracted.path})
    assert prepared["rows"] == 5 and prepared["cells_suppressed"] == 0
    staged = run.staging.read_frame(prepared["path"])
    expected = conform(source, run.dataset)
    assert list(staged.columns) == ["town", "county", "size"]
    assert staged.astype(object).equals(expected.astype(object))


def test_a_bad_value_in_a_later_batch_is_named_by_its_row_in_the_table(
    tmp_path, monkeypatch
) -> None:
    from ctdata.errors import SourceValueError
    from ctdata.pipeline import steps

    run = _towns_run(tmp_path, monkeypatch)
    source = pd.DataFrame({"town": list("abcde"), "county": list("vwxyz"),
                           "size": ["1", "2", "3", "many", "5"]})  # fmt: skip
    path = run.staging.path("opm", "towns", run.run_id, "source")
    extracted = run.staging.write_batches(iter([source]), path, label="towns")
    with pytest.raises(SourceValueError, match="row 4 of the table"):
        steps.prepare_records(run, {"path": extracted.path})


def test_a_declared_column_empty_in_the_first_batch_takes_its_declared_type(
    tmp_path, monkeypatch
) -> None:
    from ctdata.pipeline.protection import declared_types

    run = _towns_run(tmp_path, monkeypatch)
    batches = [pd.DataFrame({"town": ["a"], "size": [None]}),
               pd.DataFrame({"town": ["b"], "size": [2.5]})]  # fmt: skip
    path = run.staging.path("opm", "towns", run.run_id, "source")
    types = declared_types(run.dataset)
    staged = run.staging.write_batches(iter(batches), path, label="towns", types=types)
    assert run.staging.read_frame(staged.path)["size"].tolist()[1] == 2.5
