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


# Files that share a costly session setup (tests/ui/conftest.py's demo and probe, minutes each):
# one worker runs them all, so the setup is made once (`make test`'s loadfile would split them).
SHARED_SETUP = {
    "ui-demo-and-probe": (
        "ui/test_browser.py", "ui/test_data_docs_e2e.py", "ui/test_lineage_and_run_log.py",
        "ui/test_links.py", "ui/test_open_data_api.py",
    ),
}  # fmt: skip

# Files handed to the parallel workers first (`--no-loadscope-reorder`): the longest ones
# (minutes each: the deployments, then the files sharing the demo's session setups), so none
# is left to run alone at the end.
LONGEST_FIRST = (*TIERS["deploy"], "ui/")


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark each test of the deployment, browser and end-to-end files with its tier."""
    where = _place(item)
    for marker, places in TIERS.items():
        if where.startswith(places):
            item.add_marker(marker)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first, then the rest of the slow tiers, then the fast tier (whose
    short files fill the workers' gaps at the end); the order within a file is kept."""
    slow = set(TIERS)
    items.sort(key=lambda item: (not _place(item).startswith(LONGEST_FIRST),
                                 not slow & {m.name for m in item.iter_markers()}))  # fmt: skip


def _place(item: pytest.Item) -> str:
    return Path(item.path).relative_to(TESTS).as_posix()


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`--dist loadfile`, with each SHARED_SETUP group of files as one unit of work (xdist's
    `loadgroup` would do it, but its groups are lost under pytest 9)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    prefix = f"{TESTS.name}/"
    group_of = {prefix + file: group for group, files in SHARED_SETUP.items() for file in files}

    class SharedSetupScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::", 1)[0]
            return group_of.get(file, file)

    return SharedSetupScheduling(config, log)
