"""Test-wide environment: Airflow and the pipeline write only under a temporary folder; the
tiers' markers (`make check` runs the tests none of them marks)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
# Markers given by place, so a new test in one of these files is in its tier without a decorator.
TIERS = {
    "deploy": ("deploy/test_docker_stack.py", "deploy/test_local_cluster.py"),
    "browser": ("ui/test_browser.py", "ui/test_data_docs_e2e.py"),
    "e2e": ("e2e/", "cli/test_doctor.py"),  # the doctor's tests make Airflow homes
}

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="ctdata-tests-"))
os.environ.setdefault("AIRFLOW_HOME", str(_SESSION_DIR / "airflow"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("CTDATA_VAR_DIR", str(_SESSION_DIR / "var"))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# Each end-to-end module makes an embedded setup: its Airflow DB is migrated once, then copied.
os.environ.setdefault("CTDATA_AIRFLOW_DB_TEMPLATE", str(_SESSION_DIR / "airflow-db-template"))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty state/usage history database: SQLite, and PostgreSQL when
    CTDATA_TEST_POSTGRES_URL names a server (`.ci/run` starts one with scripts/start_postgres.sh)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    server = os.environ.get("CTDATA_TEST_POSTGRES_URL")
    if not server:
        pytest.skip(
            "no PostgreSQL server: export CTDATA_TEST_POSTGRES_URL=$(scripts/start_postgres.sh)"
        )
    import sqlalchemy as sa

    name = f"ctdata_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


# Session fixtures that run the whole demo: the tests using them share one xdist worker.
SHARED_SETUPS = {"demo_ui", "probe_ui"}
# The longest groups (minutes each) are handed to the workers first, so none is left for last.
LONGEST_FIRST = ("demo-setup", *TIERS["deploy"])


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (`--dist loadgroup`)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test of the deployment, browser and end-to-end files with its tier, and group
    the tests for parallel runs: a file's tests together (its module fixtures are made once),
    and every test of the demo's session setups on one worker (the demo runs once)."""
    for item in items:
        where = Path(item.path).relative_to(TESTS).as_posix()
        for marker, places in TIERS.items():
            if where.startswith(places):
                item.add_marker(marker)
        shared = SHARED_SETUPS & set(getattr(item, "fixturenames", ()))
        item.add_marker(pytest.mark.xdist_group("demo-setup" if shared else where))
    items.sort(key=lambda item: _group(item) not in LONGEST_FIRST)  # stable: order kept within


def _group(item: pytest.Item) -> str:
    return str(next(item.iter_markers("xdist_group")).args[0])
