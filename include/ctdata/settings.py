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


def data_docs_root() -> str:
    """Where validation results and their Great Expectations Data Docs pages are kept: a local
    path or an fsspec URL (object storage in production, e.g. s3://bucket/ctdata/data_docs)."""
    return os.environ.get("CTDATA_DATA_DOCS_ROOT", str(reports_dir() / "data_docs"))
