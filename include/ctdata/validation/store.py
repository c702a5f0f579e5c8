"""Validation results kept under a root URL, one folder per agency, dataset, run and stage:

    <root>/<agency>/<dataset>/<run>/<stage>/<suite>.html   the suite's Data Docs page
                                           /<suite>.json   its GX validation result (redacted)
                                           /summary.json   ValidationSummary.as_dict()

The root is `CTDATA_DATA_DOCS_ROOT` (default: `data_docs` under the reports folder): a local
path or any fsspec URL (`s3://bucket/ctdata/data_docs` in production). The library writes
through fsspec and never imports Airflow; a caller holding another filesystem object (for
example `ObjectStoragePath(root).fs`, with Airflow connection credentials) passes it as `fs`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctdata import settings

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

SUMMARY = "summary.json"


def safe_name(text: str) -> str:
    """A path segment from a run id such as 'scheduled__2025-01-01T06:00:00+00:00'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


@dataclass(frozen=True)
class RunStage:
    """Which validation a result belongs to: one stage of one dataset's run."""

    agency: str
    dataset: str
    run_id: str
    stage: str

    def parts(self) -> list[str]:
        return [safe_name(p) for p in (self.agency, self.dataset, self.run_id, self.stage)]

    def as_dict(self) -> dict[str, str]:
        return {
            "agency": self.agency,
            "dataset": self.dataset,
            "run_id": self.run_id,
            "stage": self.stage,
        }


class ResultStore:
    """Writes and reads Data Docs pages and validation summaries under one root."""

    def __init__(self, root: str | None = None, fs: AbstractFileSystem | None = None) -> None:
        self.root = (root or settings.data_docs_root()).rstrip("/")
        if fs is None:
            from fsspec.core import url_to_fs

            fs, _ = url_to_fs(self.root)
        self.fs = fs

    def url(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def _path(self, url: str) -> str:
        return self.fs._strip_protocol(url)

    def _write(self, url: str, text: str) -> str:
        path = self._path(url)
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(path, text.encode("utf-8"))
        return url

    def write_suite(self, run: RunStage, suite: str, redacted_result: Any) -> str:
        """Keep one suite's redacted GX result and its Data Docs page; return the page's URL."""
        from ctdata.validation.data_docs import render_page

        folder = run.parts()
        finished = dt.datetime.now(dt.UTC)
        title = f"{run.agency}/{run.dataset} ({run.stage})"
        self._write(
            self.url(*folder, f"{safe_name(suite)}.json"),
            json.dumps(redacted_result.to_json_dict(), indent=1, default=str),
        )
        page = render_page(redacted_result, title, run.run_id, finished)
        return self._write(self.url(*folder, f"{safe_name(suite)}.html"), page)

    def summary_url(self, run: RunStage) -> str:
        return self.url(*run.parts(), SUMMARY)

    def write_summary(self, run: RunStage, summary: dict[str, Any]) -> str:
        return self._write(self.summary_url(run), json.dumps(summary, indent=1, allow_nan=False))

    def load(self, agency: str, dataset: str, run_id: str) -> dict[str, dict[str, Any]]:
        """Every stage's stored summary of one run, by stage ({} when none was kept)."""
        folder = self._path(self.url(safe_name(agency), safe_name(dataset), safe_name(run_id)))
        found = {}
        for path in sorted(self.fs.glob(f"{folder}/*/{SUMMARY}")):
            summary = json.loads(self.fs.cat_file(path).decode("utf-8"))
            stage = (summary.get("run") or {}).get("stage") or path.rsplit("/", 2)[-2]
            found[stage] = summary
        return found

    def read_page(self, url: str) -> str:
        """The HTML of a page this store wrote (a URL taken from a summary's `data_docs`)."""
        if not url.startswith(self.root + "/") or ".." in url.split("/"):
            raise ValueError(f"{url} is not a page under the Data Docs root {self.root}")
        return self.fs.cat_file(self._path(url)).decode("utf-8")


def load_validation(
    agency: str, dataset: str, run_id: str, store: ResultStore | None = None
) -> dict[str, dict[str, Any]]:
    """The validation summaries kept for one dataset's run, by stage ('source',
    'publishable'): per suite its Data Docs page, per expectation its verdict and counts."""
    return (store or ResultStore()).load(agency, dataset, run_id)
