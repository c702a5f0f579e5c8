"""Where the pipeline keeps its files and state, and how it runs: one typed object read from
`CTDATA_*` environment variables.

Defaults put everything under the project's `var/` folder so the embedded setup (demo, tests)
needs no configuration; production points these at object storage and PostgreSQL. The settings
follow the environment on each `current()` call, so a test or a front door that changes it is
seen at once.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Every setting of the pipeline; the environment variable is CTDATA_ + the upper-case name."""

    model_config = SettingsConfigDict(env_prefix="CTDATA_", frozen=True, extra="ignore")

    var_dir: Path = Field(PROJECT_ROOT / "var", description="local working folder")
    state_url: str = Field("", description="SQLAlchemy URL of the state store")
    staging_root: str = Field("", description="staging root (path or object storage URL)")
    agencies_dir: Path = Field(PROJECT_ROOT / "include" / "agencies", description="agency specs")
    expectations_dir: Path = Field(PROJECT_ROOT / "expectations", description="GX suites")
    reports_dir: Path = Field(PROJECT_ROOT / "reports", description="HTML reports")
    portal_url: str = Field("https://data.ct.gov", description="portal base URL for links")
    socrata_pool: str = Field("socrata", description="Airflow pool bounding portal writes")
    socrata_pool_slots: int = Field(
        4, ge=1, description="slots of the pool when ctdata creates it (concurrent portal writes)"
    )
    task_timeout_minutes: int = Field(180, ge=1, description="execution_timeout of every task")
    retry_delay_seconds: int = Field(
        120, ge=1, description="wait before a task's first retry (doubling, at most an hour)"
    )
    staging_keep_failed_days: int = Field(7, ge=0, description="days a failed run's files stay")
    registers_config: Path = Field(
        PROJECT_ROOT / "include" / "opm_registers.yaml",
        description="the state's registers: retired assets, inventories, data officers",
    )
    airflow_url: str = Field(
        "", description="Airflow UI base URL for links; [api] base_url if unset"
    )
    alert_smtp_conn_id: str = Field("smtp_default", description="Airflow SMTP connection of alerts")
    alert_from_email: str = Field("ctdata-pipeline@ct.gov", description="sender of alert e-mail")
    alert_opm_email: str = Field(
        "opendata@ct.gov", description="OPM's open-data address, told of every agency's alerts"
    )
    run_log_dataset_id: str = Field(
        "pipe-runs", description="four-by-four of the portal's run-log dataset ('' turns it off)"
    )
    review_timeout_hours: int = Field(
        72, ge=1, description="hours a review waits for OPM's decision before the run fails"
    )
    reviewers: list[str] = Field(
        default_factory=list,
        description='Airflow user ids who may decide reviews, as JSON (["opm-reviewer"]); '
        "empty: anyone allowed to act on the DAG",
    )
    onboarding_settle_minutes: int = Field(
        30, ge=0, description="minutes a create whose answer was lost gets to show up on the portal"
    )
    batch_rows: int = Field(
        100_000, ge=1, description="rows a source batch, a staged row group and a step's read hold"
    )
    data_docs_root: str = Field(
        "", description="validation results and Data Docs pages (path or object storage URL)"
    )

    @model_validator(mode="after")
    def _derived_defaults(self) -> Settings:
        """Store and staging default under var_dir, Data Docs under reports_dir."""
        if not self.state_url:
            object.__setattr__(self, "state_url", f"sqlite:///{self.var_dir / 'state.db'}")
        if not self.staging_root:
            object.__setattr__(self, "staging_root", f"file://{self.var_dir / 'staging'}")
        if not self.data_docs_root:
            object.__setattr__(self, "data_docs_root", str(self.reports_dir / "data_docs"))
        object.__setattr__(self, "portal_url", self.portal_url.rstrip("/"))
        return self


def current() -> Settings:
    """The settings as the environment gives them now (parsed again only when a CTDATA_
    variable changed: DAG parsing asks for them many times)."""
    return _parsed(_ctdata_environment())


def _ctdata_environment() -> tuple[tuple[Any, Any], ...]:
    """The CTDATA_ variables, cheaply: on POSIX read from os.environ's byte store, which its
    setters keep current, rather than decoding every variable of the environment each call."""
    if os.name == "posix":
        raw: dict[bytes, bytes] = os.environ._data  # type: ignore[attr-defined]
        return tuple(sorted((k, v) for k, v in raw.items() if k[:7] == b"CTDATA_"))
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("CTDATA_")))


@functools.lru_cache(maxsize=8)
def _parsed(environment: tuple[tuple[Any, Any], ...]) -> Settings:
    return Settings()
