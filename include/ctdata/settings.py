"""Where the pipeline keeps its files and state. Environment variables override the defaults.

Defaults put everything under the project's `var/` folder so the embedded setup (demo, tests)
needs no configuration; production points these at object storage and PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def var_dir() -> Path:
    """Local working folder for the embedded default (state DB, staging, reports)."""
    return Path(os.environ.get("CTDATA_VAR_DIR", PROJECT_ROOT / "var"))


def state_url() -> str:
    """SQLAlchemy URL of the state and metrics store (fingerprints, run ledger, usage)."""
    default = f"sqlite:///{var_dir() / 'state.db'}"
    return os.environ.get("CTDATA_STATE_URL", default)


def staging_root() -> str:
    """Root of the Parquet staging area, as a path or URL understood by ObjectStoragePath."""
    return os.environ.get("CTDATA_STAGING_ROOT", f"file://{var_dir() / 'staging'}")


def agencies_dir() -> Path:
    """Folder holding the agency specs, one YAML file per agency."""
    return Path(os.environ.get("CTDATA_AGENCIES_DIR", PROJECT_ROOT / "include" / "agencies"))


def expectations_dir() -> Path:
    """Folder holding the Great Expectations suites (JSON)."""
    return Path(os.environ.get("CTDATA_EXPECTATIONS_DIR", PROJECT_ROOT / "expectations"))


def reports_dir() -> Path:
    """Folder where the nightly usage report (HTML) is written."""
    return Path(os.environ.get("CTDATA_REPORTS_DIR", PROJECT_ROOT / "reports"))


def portal_url() -> str:
    """Base URL of the portal shown in DAG docs and the UI (no connection lookup at parse time)."""
    return os.environ.get("CTDATA_PORTAL_URL", "https://data.ct.gov").rstrip("/")


def socrata_pool() -> str:
    """Airflow pool bounding concurrent writes to the portal across all agencies."""
    return os.environ.get("CTDATA_SOCRATA_POOL", "socrata")


def task_timeout_minutes() -> int:
    """Upper bound on any one task's run time (Airflow's execution_timeout)."""
    return int(os.environ.get("CTDATA_TASK_TIMEOUT_MINUTES", "180"))


def staging_keep_failed_days() -> int:
    """Days a failed run's staged files are kept for debugging before they are swept."""
    return int(os.environ.get("CTDATA_STAGING_KEEP_FAILED_DAYS", "7"))


def data_docs_root() -> str:
    """Where validation results and their Great Expectations Data Docs pages are kept: a local
    path or an fsspec URL (object storage in production, e.g. s3://bucket/ctdata/data_docs)."""
    return os.environ.get("CTDATA_DATA_DOCS_ROOT", str(reports_dir() / "data_docs"))
