"""Validation results kept under a root URL, one folder per agency, dataset, run and stage:

    <root>/<agency>/<dataset>/<run>/<stage>/<suite>.html   the suite's Data Docs page
                                           /<suite>.json   its GX validation result (redacted)
                                           /summary.json   ValidationSummary.as_dict()

The root is `CTDATA_DATA_DOCS_ROOT` (default: `data_docs` under the reports folder): a local
path or any fsspec URL (`s3://bucket/ctdata/data_docs` in production). Like the staging area,
the store knows paths only through `open_path` (URL -> path object): universal-pathlib's
`UPath` by default; the pipeline passes the staging area's opener, which in Airflow tasks is
`ObjectStoragePath`, so object storage is reached with Airflow's connections.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ctdata import settings
from ctdata.staging import open_url, safe_run_id

SUMMARY = "summary.json"
KEPT_SUFFIXES = (".html", ".json")
log = logging.getLogger(__name__)


def _configured_root() -> str:
    return settings.current().data_docs_root


@dataclass(frozen=True)
class RunStage:
    """Which validation a result belongs to: one stage of one dataset's run."""

    agency: str
    dataset: str
    run_id: str
    stage: str

    def parts(self) -> list[str]:
        return [safe_run_id(p) for p in (self.agency, self.dataset, self.run_id, self.stage)]

    def as_dict(self) -> dict[str, str]:
        return {
            "agency": self.agency,
            "dataset": self.dataset,
            "run_id": self.run_id,
            "stage": self.stage,
        }


@dataclass(frozen=True)
class ResultStore:
    """Writes and reads Data Docs pages and validation summaries under one root."""

    root: str = field(default_factory=_configured_root)
    open_path: Callable[[str], Any] = open_url

    def _path(self, *parts: str) -> Any:
        path = self.open_path(self.root.rstrip("/"))
        for part in parts:
            path = path / part
        return path

    @staticmethod
    def _write(path: Any, text: str) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            handle.write(text)
        return str(path)

    def write_suite(self, run: RunStage, suite: str, redacted_result: Any) -> str | None:
        """Keep one suite's redacted GX result, strings HTML-escaped, and its Data Docs page;
        return the page's URL. A page GX cannot render is logged and left out (None): the
        validation's verdict never depends on it."""
        from ctdata.validation.data_docs import escape_result, render_page

        name = safe_run_id(suite)
        kept = escape_result(redacted_result).to_json_dict()
        self._write(
            self._path(*run.parts(), f"{name}.json"), json.dumps(kept, indent=1, default=str)
        )
        title = f"{run.agency}/{run.dataset} ({run.stage})"
        try:
            page = render_page(redacted_result, title, run.run_id, dt.datetime.now(dt.UTC))
        except Exception as error:  # noqa: BLE001 - GX's renderer: any crash, never the verdict
            log.warning(
                "The Data Docs page of suite %s (%s) could not be rendered (%s); the validation "
                "result is kept and stands.",
                suite, title, type(error).__name__,
            )  # fmt: skip
            return None
        return self._write(self._path(*run.parts(), f"{name}.html"), page)

    def summary_url(self, run: RunStage) -> str:
        return str(self._path(*run.parts(), SUMMARY))

    def write_summary(self, run: RunStage, summary: dict[str, Any]) -> str:
        text = json.dumps(summary, indent=1, allow_nan=False)
        return self._write(self._path(*run.parts(), SUMMARY), text)

    def load(self, agency: str, dataset: str, run_id: str) -> dict[str, dict[str, Any]]:
        """Every stage's stored summary of one run, by stage ({} when none was kept)."""
        folder = self._path(*(safe_run_id(p) for p in (agency, dataset, run_id)))
        if not folder.exists():
            return {}
        found = {}
        for path in sorted(folder.glob(f"*/{SUMMARY}"), key=str):
            summary = json.loads(path.read_text(encoding="utf-8"))
            found[(summary.get("run") or {}).get("stage") or path.parent.name] = summary
        return found

    def read_page(self, url: str) -> str:
        """The text of a page or result this store wrote (a URL taken from a summary's
        `data_docs`); only its `.html` pages and `.json` results, only under its root."""
        root = str(self._path())
        if not url.startswith(root + "/") or ".." in url.split("/"):
            raise ValueError(f"{url} is not a page under the Data Docs root {root}")
        if not url.endswith(KEPT_SUFFIXES):
            raise ValueError(f"{url} is not a Data Docs page nor a validation result")
        return self.open_path(url).read_text(encoding="utf-8")


def load_validation(
    agency: str, dataset: str, run_id: str, store: ResultStore | None = None
) -> dict[str, dict[str, Any]]:
    """The validation summaries kept for one dataset's run, by stage ('source',
    'publishable'): per suite its Data Docs page, per expectation its verdict and counts."""
    return (store or ResultStore()).load(agency, dataset, run_id)
