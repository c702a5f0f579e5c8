"""Parquet files passed between tasks, under a staging root that may be a local folder or
object storage (an Airflow ObjectStoragePath), so the same DAG runs on one machine or many."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ctdata import settings

if TYPE_CHECKING:
    import pandas as pd
    from airflow.sdk import ObjectStoragePath


def stage_path(agency: str, dataset: str, run_id: str, name: str) -> ObjectStoragePath:
    """Where one step's output for one run lives: <root>/<agency>/<dataset>/<run>/<name>.parquet."""
    from airflow.sdk import ObjectStoragePath

    safe_run = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)
    return (
        ObjectStoragePath(settings.staging_root()) / agency / dataset / safe_run / f"{name}.parquet"
    )


def write_frame(frame: pd.DataFrame, path: ObjectStoragePath) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        frame.to_parquet(handle, index=False)
    return str(path)


def read_frame(path: str | ObjectStoragePath) -> pd.DataFrame:
    import pandas as pd
    from airflow.sdk import ObjectStoragePath

    with ObjectStoragePath(str(path)).open("rb") as handle:
        return pd.read_parquet(handle)
