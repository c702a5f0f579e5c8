"""Test-wide environment: Airflow and the pipeline write only under a temporary folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="ctdata-tests-"))
os.environ.setdefault("AIRFLOW_HOME", str(_SESSION_DIR / "airflow"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("CTDATA_VAR_DIR", str(_SESSION_DIR / "var"))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
