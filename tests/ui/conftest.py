"""The demo setup after the demo's runs (agencies, usage metrics, inventories), with the
Airflow API server (and so the Open Data view) running on it: shared by the auth, lineage and
browser tests of this folder."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from ctdata.demo.environment import LocalSetup
from ctdata.demo.runner import local_portal, run_dag, run_usage_metrics
from ctdata.demo.services import AirflowServices, airflow_services
from ctdata.specs import load_all

PINNED_IDS = {"ocme-twn7", "rybz-nyjw", "opmt-wn01", "opmc-nty1"}
USERS = {"opm": ("admin", "opm-password-1"), "ocme_officer": ("viewer", "ocme-password-1")}


@dataclass
class DemoUI:
    setup: LocalSetup
    env: dict[str, str]
    services: AirflowServices
    portal: Any

    @property
    def url(self) -> str:
        return self.services.api_url

    @property
    def created_id(self) -> str:
        """The id of OCME's deaths_by_age, which the demo's run created (its spec pins none)."""
        from ctdata.lifecycle.registry import DatasetRegistry

        registry = DatasetRegistry(self.setup.state_url)
        try:
            found = registry.portal_id("ocme", "deaths_by_age")
        finally:
            registry.dispose()
        assert found, "the demo run did not create ocme/deaths_by_age"
        return found

    @property
    def dataset_ids(self) -> set[str]:
        """Every demo dataset's portal id: the pinned ones and the one the run created."""
        return {*PINNED_IDS, self.created_id}

    @staticmethod
    def password(user: str) -> str:
        return USERS[user][1]

    def token(self, user: str) -> str:
        answer = requests.post(
            f"{self.url}/auth/token",
            json={"username": user, "password": USERS[user][1]},
            timeout=30,
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def get(
        self,
        path: str,
        user: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        headers = dict(headers or {})
        if user:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        return requests.get(f"{self.url}{path}", headers=headers, timeout=60, **kwargs)


def auth_env(setup: LocalSetup) -> dict[str, str]:
    """Named users with known passwords, and the per-DAG auth manager of scoped_auth.py."""
    passwords = setup.airflow_home / "passwords.json"
    passwords.write_text(json.dumps({name: pw for name, (_, pw) in USERS.items()}))
    here = str(Path(__file__).parent)
    return {
        "AIRFLOW__CORE__AUTH_MANAGER": "scoped_auth.AgencyScopedAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
            f"{name}:{role}" for name, (role, _) in USERS.items()
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "PYTHONPATH": os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p),
    }


@pytest.fixture(scope="session")
def demo_ui(tmp_path_factory) -> Iterator[DemoUI]:
    setup = LocalSetup(tmp_path_factory.mktemp("ui") / "var")
    setup.prepare()
    agencies = load_all().agencies
    with local_portal(setup, agencies) as portal:
        env = setup.env("127.0.0.1", portal.port)
        for agency in agencies:
            ok, log = run_dag(setup, env, agency.dag_id)
            assert ok, log.read_text()[-4000:]
        assert run_usage_metrics(setup, env, agencies, portal.url), "usage_metrics failed"
        ok, log = run_dag(setup, env, "inventories")  # as make demo does: OPM's registers
        assert ok, log.read_text()[-4000:]
        env = {**env, **auth_env(setup)}
        logs = setup.logs_dir / "services"
        with airflow_services(env, logs, components=("api-server",)) as services:
            yield DemoUI(setup, env, services, portal)


@dataclass
class ProbeUI(DemoUI):
    """A setup whose one agency reads a CSV a hostile source wrote (markup_probe.py), after
    its DAG's run, with the API server running."""

    run_id: str = ""


@pytest.fixture(scope="session")
def probe_ui(tmp_path_factory) -> Iterator[ProbeUI]:
    import sqlalchemy as sa

    from tests.ui.markup_probe import write_probe_agency

    setup = LocalSetup(tmp_path_factory.mktemp("probe") / "var")
    setup.prepare()
    folder = write_probe_agency(setup.var_dir / "probe", setup.sources_dir)
    agencies = load_all(folder / "agencies").agencies
    with local_portal(setup, agencies) as portal:
        env = {
            **setup.env("127.0.0.1", portal.port),
            "CTDATA_AGENCIES_DIR": str(folder / "agencies"),
            "CTDATA_EXPECTATIONS_DIR": str(folder / "expectations"),
        }
        ok, log = run_dag(setup, env, "publish_probe")
        assert not ok, "the probe's source validation should have failed: " + str(log)
        engine = sa.create_engine(f"sqlite:///{setup.airflow_home / 'airflow.db'}")
        with engine.connect() as conn:
            run_id = conn.execute(sa.text("SELECT run_id FROM dag_run")).scalar_one()
        engine.dispose()
        env = {**env, **auth_env(setup)}
        logs = setup.logs_dir / "services"
        with airflow_services(env, logs, components=("api-server",)) as services:
            yield ProbeUI(setup, env, services, portal, run_id=run_id)
