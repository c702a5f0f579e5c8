"""Validation results are kept: a Data Docs page per suite and a summary per stage, on a local
folder or object storage, readable back by dataset and run, with no value from the data."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import fsspec
import pandas as pd
import pytest

from ctdata.validation import ResultArchive, RunStage, load_validation, run_suites
from ctdata.validation.redaction import KEPT_COUNTS

RUN = "scheduled__2025-01-01T06:00:00+00:00"


@pytest.fixture
def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pid": ["P-1001", "P-1002", "P-1003"],
            "town": ["Hartford", "Hartfrod", "Avon"],
            "n": [0, 3, 12],
        }
    )


@pytest.fixture
def suites(tmp_path: Path) -> Path:
    folder = tmp_path / "suites"
    folder.mkdir()
    checks = [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "pid"}},
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "town", "value_set": ["Hartford", "Avon"]},
        },
        {"type": "expect_column_values_to_not_be_small_counts", "kwargs": {"column": "n"}},
        {"type": "expect_column_max_to_be_between", "kwargs": {"column": "n", "max_value": 5}},
    ]
    shape = [{"type": "expect_table_row_count_to_equal", "kwargs": {"value": 3}}]
    for name, expectations in (("checks", checks), ("shape", shape)):
        text = json.dumps({"name": name, "expectations": expectations})
        (folder / f"{name}.json").write_text(text, encoding="utf-8")
    return folder


def run_kept(frame, suites_dir, store, stage="publishable"):
    where = RunStage("ocme", "deaths_by_town", RUN, stage)
    return run_suites(
        frame,
        ["checks", "shape"],
        dataset=f"deaths_by_town ({stage})",
        expectations_dir=suites_dir,
        keep_at=where,
        store=store,
    )


def test_each_suite_keeps_its_data_docs_page_and_the_summary_reads_back(people, suites, store):
    summary = run_kept(people, suites, store)
    assert not summary.success
    pages = {s.name: s.data_docs for s in summary.suites}
    run_folder = "scheduled__2025-01-01T06_00_00_00_00"  # a path segment from the run id
    assert (
        pages["checks"] == f"{store.root}/ocme/deaths_by_town/{run_folder}/publishable/checks.html"
    )
    for name, page in pages.items():
        html = Path(page).read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>") and name in html
        assert store.read_page(page) == html
    checks = Path(pages["checks"]).read_text(encoding="utf-8")
    assert "values must belong to this set" in checks and "1 unexpected values found" in checks
    kept = load_validation("ocme", "deaths_by_town", RUN, store)
    assert list(kept) == ["publishable"]
    assert kept["publishable"] == summary.as_dict()
    assert kept["publishable"]["run"] == {
        "agency": "ocme",
        "dataset": "deaths_by_town",
        "run_id": RUN,
        "stage": "publishable",
    }
    assert load_validation("ocme", "deaths_by_town", "another run", store) == {}


def test_no_value_from_the_data_is_kept_anywhere(people, suites, store, caplog) -> None:
    caplog.set_level(logging.INFO, logger="ctdata")
    run_kept(people, suites, store)
    written = [p for p in Path(store.root).rglob("*") if p.is_file()]
    assert {p.suffix for p in written} == {".html", ".json"} and len(written) == 5
    texts = [p.read_text(encoding="utf-8") for p in written] + [caplog.text]
    for text in texts:
        # A misspelt town, a small count and the column's maximum: values of the frame.
        assert "Hartfrod" not in text and "P-100" not in text
        assert '"observed_value": 12' not in text and ">12<" not in text
    result = json.loads((next(p for p in written if p.name == "checks.json")).read_text())
    failed = [r["result"] for r in result["results"] if not r["success"]]
    assert len(failed) == 3
    assert all(set(r) <= {*KEPT_COUNTS, "observed_value"} for r in failed)  # no samples, indexes


def test_results_go_to_object_storage_through_fsspec(people, suites) -> None:
    root = f"memory://ctdata-tests-{uuid.uuid4().hex[:8]}/data_docs"
    store = ResultArchive(root)
    summary = run_kept(people, suites, store, stage="source")
    fs = fsspec.filesystem("memory")
    page = summary.suites[0].data_docs
    assert page.startswith(root + "/ocme/deaths_by_town/") and fs.exists(page)
    assert summary.record == f"{page.rsplit('/', 1)[0]}/summary.json" and fs.exists(summary.record)
    assert (
        load_validation("ocme", "deaths_by_town", RUN, ResultArchive(root))["source"]["failed"] == 3
    )
    with pytest.raises(ValueError, match="not a page under the Data Docs root"):
        store.read_page(root.replace("data_docs", "elsewhere") + "/x.html")
    with pytest.raises(ValueError):
        store.read_page(f"{root}/../../etc/passwd")


def test_the_default_root_is_the_setting(people, suites, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CTDATA_DATA_DOCS_ROOT", str(tmp_path / "configured"))
    summary = run_suites(
        people,
        ["shape"],
        dataset="d",
        expectations_dir=suites,
        keep_at=RunStage("opm", "towns", "r1", "publishable"),
    )
    assert summary.suites[0].data_docs == str(
        tmp_path / "configured/opm/towns/r1/publishable/shape.html"
    )
    assert load_validation("opm", "towns", "r1")["publishable"]["success"] is True


def test_the_log_tells_the_story_by_expectation_name(people, suites, store, caplog) -> None:
    caplog.set_level(logging.INFO, logger="ctdata")
    summary = run_kept(people, suites, store)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert (
        "WARNING",
        f"Suite checks on deaths_by_town (publishable): 1 of 4 expectations passed, 3 failed; "
        f"Data Docs: {summary.suites[0].data_docs}",
    ) in lines
    assert ("INFO", "  passed expect_column_values_to_be_unique (pid)") in lines
    assert (
        "WARNING",
        "  FAILED expect_column_values_to_be_in_set on column 'town' "
        "(value_set=['Hartford', 'Avon']): 1 unexpected value(s) (33.33% of rows checked)",
    ) in lines
    assert any(
        m.startswith("Suite shape on deaths_by_town (publishable): 1 of 1") for _, m in lines
    )


def test_airflow_object_storage_paths_work_as_the_opener(people, suites, tmp_path) -> None:
    from airflow.sdk import ObjectStoragePath

    store = ResultArchive(f"file://{tmp_path / 'osp'}", open_path=ObjectStoragePath)
    summary = run_kept(people, suites, store)
    assert summary.suites[0].data_docs.startswith(f"file://{tmp_path / 'osp'}/ocme/")
    assert store.read_page(summary.suites[0].data_docs).startswith("<!DOCTYPE html>")
    assert load_validation("ocme", "deaths_by_town", RUN, store)["publishable"]["failed"] == 3
