"""Parquet files passed between tasks, under a staging root that may be a local folder or object
storage, so the same DAG runs on one machine or on many workers.

Layout: <root>/<agency>/<dataset>/<run>/<step>.parquet. A run's folder holds record-level source
data, so it is removed once the run has published, and a failed run's folder is kept for
debugging only for a limited number of days (`sweep`).

The library knows paths only through `open_path` (a URL -> path object with `open`, `mkdir`,
`iterdir`, `rm`/`unlink`, `stat`): universal-pathlib's `UPath` by default; the Airflow glue
passes `ObjectStoragePath` so that object storage is reached with Airflow's connections.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ctdata import settings

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


def open_url(url: str) -> Any:
    """A path object for a local path or storage URL (universal-pathlib), the library's default
    `open_path`; front doors may pass another (Airflow's ObjectStoragePath)."""
    from upath import UPath

    return UPath(url)


def safe_run_id(run_id: str) -> str:
    """A run id usable as a folder name on every storage."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)


@dataclass(frozen=True)
class Staging:
    """One staging area (the configured root unless given)."""

    root: str = field(default_factory=lambda: settings.current().staging_root)
    open_path: Callable[[str], Any] = open_url

    def run_dir(self, agency: str, dataset: str, run_id: str) -> Any:
        return self.open_path(self.root) / agency / dataset / safe_run_id(run_id)

    def path(self, agency: str, dataset: str, run_id: str, name: str) -> Any:
        """Where one step's output for one run lives."""
        return self.run_dir(agency, dataset, run_id) / f"{name}.parquet"

    def write_frame(self, frame: pd.DataFrame, path: Any) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            frame.to_parquet(handle, index=False)
        return str(path)

    def read_frame(self, path: str | Any) -> pd.DataFrame:
        import pandas as pd

        with self.open_path(str(path)).open("rb") as handle:
            return pd.read_parquet(handle)

    def remove_run(self, agency: str, dataset: str, run_id: str) -> bool:
        """Delete one run's staged files; False when there were none."""
        folder = self.run_dir(agency, dataset, run_id)
        if not folder.exists():
            return False
        _remove_tree(folder)
        return True

    def sweep(self, agency: str, keep: dt.timedelta, now: dt.datetime | None = None) -> list[str]:
        """Delete the agency's run folders last written more than `keep` ago (failed runs kept
        for debugging); returns the folders removed."""
        now = now or dt.datetime.now(dt.UTC)
        base = self.open_path(self.root) / agency
        if not base.exists():
            return []
        removed: list[str] = []
        for dataset_dir in _dirs(base):
            for run_dir in _dirs(dataset_dir):
                written = _newest_write(run_dir)
                if written is not None and now - written > keep:
                    _remove_tree(run_dir)
                    removed.append(str(run_dir))
        return removed


def _dirs(folder: Any) -> list[Any]:
    return [child for child in folder.iterdir() if child.is_dir()]


def _remove_tree(folder: Any) -> None:
    fs = getattr(folder, "fs", None)
    if fs is not None:
        fs.rm(getattr(folder, "path", str(folder)), recursive=True)
        return
    import shutil

    shutil.rmtree(folder)


def _newest_write(folder: Any) -> dt.datetime | None:
    times = [_modified(child) for child in folder.iterdir()]
    known = [t for t in times if t is not None]
    return max(known) if known else _modified(folder)


def _modified(path: Any) -> dt.datetime | None:
    """Modification time across storages (local files give `mtime`, S3 `LastModified`)."""
    fs = getattr(path, "fs", None)
    info: dict[str, Any] = fs.info(path.path) if fs is not None else {"mtime": path.stat().st_mtime}
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value, dt.UTC)
    return None
