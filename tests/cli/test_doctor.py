"""`ctdata doctor` on an Airflow home made by `airflow db migrate` alone, as an agency's existing
Airflow would be: one line per missing piece with its fix, exit 1; `--fix --upgrade` makes the
pool and the store's tables; then exit 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctdata import settings

BIN = Path(sys.executable).parent
CONNECTION = {"conn_type": "socrata", "host": "127.0.0.1", "port": 9, "schema": "http",
              "login": "publisher@ct.gov", "password": "pw"}  # fmt: skip


def _doctor(env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "ctdata"), "doctor", *flags], env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip


@pytest.fixture(scope="module")
def bare(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("doctor")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CTDATA_"))}
    env.update(
        AIRFLOW_HOME=str(root / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(settings.PROJECT_ROOT / "dags"),
        AIRFLOW_CONN_SOCRATA_DEFAULT=json.dumps(CONNECTION),
        CTDATA_VAR_DIR=str(root / "var"),
        CTDATA_PSEUDONYM_KEY="a-test-key-that-is-long-enough",
        CTDATA_REVIEWERS='["opm-reviewer"]',
        GX_ANALYTICS_ENABLED="False",
    )
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True,
                   capture_output=True, timeout=900)  # fmt: skip
    return env


def test_a_bare_airflow_gets_one_line_per_missing_piece(bare) -> None:
    done = _doctor(bare)
    assert done.returncode == 1, done.stdout + done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "3 problem(s)", done.stdout
    text = "\n".join(lines)
    assert "pool 'socrata': does not exist" in text and "Fix: airflow pools set socrata 4" in text
    assert "state store sqlite:///" in text and "Fix: run `ctdata doctor --upgrade`" in text
    assert "reviewer 'opm-reviewer': is not a user id the auth manager knows" in text


def test_fix_and_upgrade_make_what_is_missing(bare) -> None:
    env = {**bare, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,opm-reviewer:user"}
    done = _doctor(env, "--fix", "--upgrade", "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0, report
    assert "pool 'socrata': created" in report["done"]
    assert any(line.startswith("state store") for line in report["done"])
    assert report["problems"] == []
    again = _doctor(env)
    assert again.returncode == 0 and again.stdout.startswith("No problems"), again.stdout


def test_a_connection_nobody_defined_is_named_with_its_users(bare) -> None:
    env = {k: v for k, v in bare.items() if k != "AIRFLOW_CONN_SOCRATA_DEFAULT"}
    done = _doctor(env)
    assert done.returncode == 1
    assert ("connection 'socrata_default' (used by ocme, opm, usage_metrics, inventories): "
            "is not defined. Fix: set AIRFLOW_CONN_SOCRATA_DEFAULT=") in done.stdout  # fmt: skip


def test_an_airflow_home_without_a_database_says_to_migrate(tmp_path, bare) -> None:
    env = {**bare, "AIRFLOW_HOME": str(tmp_path / "never-migrated")}
    done = _doctor(env)
    assert done.returncode == 1
    assert "Airflow's metadata database" in done.stdout
    assert "Fix: run `airflow db migrate`" in done.stdout


SCHEDULER_LOOP = """
from airflow.models.pool import Pool
from airflow.utils.session import create_session
from airflow.utils.sqlalchemy import prohibit_commit
from ctdata.airflow.deployment import ensure_pool

with create_session() as session:
    session.query(Pool).filter(Pool.pool == "socrata").delete()
with create_session() as session:
    with prohibit_commit(session) as guard:  # the scheduler's loop: no commit but its own
        created = ensure_pool(session)
        again = ensure_pool(session)
        guard.commit()
print(created, again, Pool.get_pool("socrata").slots)
"""


def test_the_listener_makes_the_pool_inside_the_schedulers_transaction(bare) -> None:
    """What `on_dag_run_running` does in the scheduler: a savepoint on its session, committed
    by the scheduler (a commit of its own would break the scheduler's HA locks)."""
    done = subprocess.run([sys.executable, "-c", SCHEDULER_LOOP], env=bare, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-3:] == ["True", "False", "4"]
