"""Kept Data Docs pages hold no markup from the data and no data value: a column named like an
HTML tag and a value carrying a script reach the page escaped or not at all; an exception that
quotes the data keeps its type and expectation only; a page GX cannot render never decides
the validation; pages kept by older versions are served sanitized."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from ctdata.errors import ValidationFailed
from ctdata.validation import RunStage, run_suites
from ctdata.validation.data_docs import assets, served_page
from ctdata.validation.redaction import WITHHELD
from tests.markup_checks import executable_markup, remote_references

COLUMN = '<img src=x onerror="document.title=1">'
VALUE = "<script>document.title=2</script>"
CASE = "14-0273"  # a record-level value (an OCME case number) an exception message would quote
RUN = "manual__2026-01-01"


@pytest.fixture
def suites(tmp_path: Path) -> Path:
    folder = tmp_path / "suites"
    folder.mkdir()
    checks = [
        {"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": ["town", "case"]}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "town", "value_set": ["Avon", "Hartford"]}},
        {"type": "expect_column_mean_to_be_between",
         "kwargs": {"column": "case", "min_value": 0, "max_value": 5}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": COLUMN}},
    ]  # fmt: skip
    (folder / "probe.json").write_text(json.dumps({"name": "probe", "expectations": checks}))
    return folder


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "town": ["Avon", VALUE, "Hartford"],
            "case": [CASE, "14-0274", "15-0001"],
            COLUMN: [1, 2, 3],
        }
    )


def run(frame, suites, store):
    return run_suites(
        frame,
        ["probe"],
        dataset="probe (source)",
        expectations_dir=suites,
        keep_at=RunStage("opm", "probe", RUN, "source"),
        store=store,
    )


def kept_files(store) -> dict[str, str]:
    return {p.name: p.read_text() for p in Path(store.root).rglob("*") if p.is_file()}


def test_markup_from_the_data_is_kept_escaped_and_never_executable(frame, suites, store) -> None:
    summary = run(frame, suites, store)
    assert not summary.success and summary.suites[0].data_docs
    kept = kept_files(store)
    assert set(kept) == {"probe.html", "probe.json", "summary.json"}
    page = kept["probe.html"]
    assert executable_markup(page) == [] and remote_references(page) == []
    escaped = "&lt;img src=x onerror=&quot;document.title=1&quot;&gt;"
    for name in ("probe.html", "probe.json"):  # what GX renders from, and its page
        assert COLUMN not in kept[name] and escaped in kept[name], name
    for text in kept.values():
        assert "document.title=2" not in text and CASE not in text  # a value: never kept
    # The local assets the page names are the installed packages' files.
    assert 'href="bootstrap.min.css"' in page and 'href="ctdata-data-docs.css"' in page
    assert assets()["bootstrap.min.css"].path.read_text().startswith("/*!\n * Bootstrap v4.")


def test_gx_alone_would_have_put_the_column_name_on_the_page_as_markup(frame, suites) -> None:
    """The threat the escaping answers: GX's own view renders the name as a live tag."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    from ctdata.validation.context import validate_suites
    from ctdata.validation.redaction import redact_suite_result
    from ctdata.validation.runner import RESULT_FORMAT
    from ctdata.validation.suites import load_suite

    [result] = validate_suites(frame, [load_suite("probe", suites)], RESULT_FORMAT)
    raw = DefaultJinjaPageView().render(
        ValidationResultsPageRenderer().render(redact_suite_result(result))
    )
    assert "<img onerror=...>" in executable_markup(raw)


def test_an_exception_quoting_the_data_keeps_only_its_type_and_expectation(
    frame, suites, store, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="ctdata")
    summary = run(frame, suites, store)
    [mean] = [o for o in summary.outcomes if o.expectation_type.endswith("mean_to_be_between")]
    assert mean.exception == f"MetricResolutionError ({WITHHELD})" and not mean.success
    with pytest.raises(ValidationFailed) as failed:
        summary.raise_for_failure()
    message = str(failed.value)
    assert (
        "expect_column_mean_to_be_between on column 'case' (min_value=0.0; max_value=5.0): "
        "could not be evaluated: MetricResolutionError" in message
    )
    for text in [message, caplog.text, *kept_files(store).values()]:
        assert CASE not in text and "Could not convert" not in text


def test_a_page_gx_cannot_render_never_decides_the_validation(
    frame, suites, store, monkeypatch, caplog
) -> None:
    from ctdata.validation import data_docs

    def crash(*args, **kwargs):
        raise TypeError("expected string or bytes-like object, got 'NoneType'")

    monkeypatch.setattr(data_docs, "render_page", crash)
    # Airflow's logging setup, run by earlier tests in the same process, may stop "ctdata" loggers
    # propagating to the root logger caplog listens on: listen on the archive's logger itself.
    from ctdata.validation import archive

    logger = logging.getLogger(archive.__name__)
    monkeypatch.setattr(logger, "disabled", False)
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger=archive.__name__):
            summary = run(frame, suites, store)
    finally:
        logger.removeHandler(caplog.handler)
    assert summary.suites[0].data_docs is None and summary.failed == 3
    assert "could not be rendered (TypeError)" in caplog.text
    with pytest.raises(ValidationFailed):  # the pipeline's own error: not retried
        summary.raise_for_failure()
    assert "probe.json" in kept_files(store) and "probe.html" not in kept_files(store)


OLD_PAGE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<link rel="stylesheet" href="https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css">
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<meta http-equiv="refresh" content="0;url=javascript:alert(1)">
<style>td{color:red}</style><style></style><img src=x onerror=alert(1)><style></style>
<!--[if IE]><script>alert(1)</script><![endif]-->
</head><body>
<a href="../../../../index.html">Home</a> <a href="javascript:alert(1)">run</a>
<a href="https://greatexpectations.io/newsletter">newsletter</a> <a href="#section-1">s1</a>
<td>town <img src=x onerror=alert(1)> <svg onload=alert(1)><circle/></svg></td>
<iframe srcdoc="<script>alert(1)</script>"></iframe><object data="x.swf"></object>
<div style="background:url(https://evil.example/x)" onclick="alert(1)">kept text</div>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1">
</body></html>"""


def test_a_page_kept_before_the_escaping_is_served_sanitized() -> None:
    served = served_page(OLD_PAGE, "/ctdata/data-docs/static", "/ctdata/datasets/opmt-wn01")
    assert executable_markup(served) == [] and remote_references(served) == []
    assert '<link rel="stylesheet" href="/ctdata/data-docs/static/bootstrap.min.css">' in served
    assert 'href="/ctdata/data-docs/static/ctdata-data-docs.css"' in served
    assert 'src="/ctdata/data-docs/static/logo-long.png"' in served
    assert '<a href="/ctdata/datasets/opmt-wn01">Home</a>' in served
    assert '<a href="#section-1">s1</a>' in served and "<a>newsletter</a>" in served
    assert "kept text" in served and "td{color:red}" in served and "alert" not in served
