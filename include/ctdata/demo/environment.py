"""Environment of the embedded setup: an Airflow home, the agency source databases, the portal
account and connection. Shared by `make demo` and the end-to-end tests so both run the same way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ctdata import settings

PUBLISHER = ("opendata-publisher@ct.gov", "demo-publisher-password")
ADMIN = ("portal-admin@ct.gov", "demo-admin-password")
APP_TOKEN = "demo-app-token"
SOCRATA_POOL_SLOTS = 4
DEMO_PSEUDONYM_KEY = "demo-only-key-set-a-real-secret-in-production"
# A folder where the first setup makes its Airflow metadata DB and later setups copy it from
# (the test suite sets it: each end-to-end module makes a setup of its own).
AIRFLOW_DB_TEMPLATE = "CTDATA_AIRFLOW_DB_TEMPLATE"
OCME_SOURCE_CSV = (
    settings.PROJECT_ROOT / "include/ctdata/data/accidental_drug_related_deaths_2012_2018.csv"
)


@dataclass(frozen=True)
class LocalSetup:
    """Folders of one embedded installation (the project's var/ for the demo, tmp in tests)."""

    var_dir: Path

    @property
    def airflow_home(self) -> Path:
        return self.var_dir / "airflow"

    @property
    def portal_dir(self) -> Path:
        return self.var_dir / "portal"

    @property
    def sources_dir(self) -> Path:
        return self.var_dir / "sources"

    @property
    def reports_dir(self) -> Path:
        return self.var_dir / "reports"

    @property
    def logs_dir(self) -> Path:
        return self.var_dir / "logs"

    @property
    def state_url(self) -> str:
        """The state store the setup's runs use (CTDATA_VAR_DIR's default)."""
        return settings.Settings(var_dir=self.var_dir).state_url

    def env(self, portal_host: str, portal_port: int) -> dict[str, str]:
        """Variables for Airflow commands: Airflow home, DAG folder, the Socrata connection."""
        connection = {
            "conn_type": "socrata",
            "host": portal_host,
            "schema": "http",
            "port": portal_port,
            "login": PUBLISHER[0],
            "password": PUBLISHER[1],
            "extra": {"app_token": APP_TOKEN},
        }
        return {
            **os.environ,
            "AIRFLOW_HOME": str(self.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(settings.PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.airflow_home / 'airflow.db'}",
            "AIRFLOW_CONN_SOCRATA_DEFAULT": json.dumps(connection),
            "CTDATA_VAR_DIR": str(self.var_dir),
            "CTDATA_REPORTS_DIR": str(self.reports_dir),
            "CTDATA_PORTAL_URL": f"http://{portal_host}:{portal_port}",
            "CTDATA_PSEUDONYM_KEY": os.environ.get("CTDATA_PSEUDONYM_KEY", DEMO_PSEUDONYM_KEY),
            "GX_ANALYTICS_ENABLED": "False",
            "PYTHONWARNINGS": "ignore",
        }

    def prepare(self) -> list[str]:
        """Create the folders, the Airflow metadata DB and the agencies' source systems, and
        bring the state store's schema to this release; returns the store revisions applied."""
        from ctdata.store import release, upgrade_store

        for folder in (self.airflow_home, self.portal_dir, self.sources_dir, self.logs_dir):
            folder.mkdir(parents=True, exist_ok=True)
        load_ocme_source(self.sources_dir / "ocme.db")
        template = os.environ.get(AIRFLOW_DB_TEMPLATE)
        if template:
            _copy_airflow_db(Path(template), self.airflow_home)
        else:
            _make_airflow_db(self.env("127.0.0.1", 0))
        applied = upgrade_store(self.state_url)
        release(self.state_url)
        return applied


def _make_airflow_db(env: dict[str, str]) -> None:
    """`airflow db migrate` and the `socrata` pool in the home `env` names."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    pool = [airflow, "pools", "set", settings.current().socrata_pool, str(SOCRATA_POOL_SLOTS)]
    pool.append("Concurrent writes to the Socrata portal, across all agencies")
    subprocess.run(pool, env=env, check=True, capture_output=True)


def _copy_airflow_db(template: Path, home: Path) -> None:
    """Copy the metadata DB made once in `template` (made there first, under a lock, so parallel
    test workers sharing it make it once): a migrate costs half a minute per setup."""
    import fcntl
    import shutil

    template.mkdir(parents=True, exist_ok=True)
    made = template / "airflow" / "airflow.db"
    with (template / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not made.exists():
            _make_airflow_db(LocalSetup(template).env("127.0.0.1", 0))
    shutil.copyfile(made, home / "airflow.db")


def load_ocme_source(path: Path) -> int:
    """Stand in for OCME's case system: its published records, in an SQLite database."""
    import pandas as pd
    import sqlalchemy as sa

    records = pd.read_csv(OCME_SOURCE_CSV, encoding="utf-8-sig", dtype=str)
    records["Age"] = pd.to_numeric(records["Age"])
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        records.to_sql(
            "accidental_drug_related_deaths", connection, if_exists="replace", index=False
        )
    engine.dispose()
    return len(records)
