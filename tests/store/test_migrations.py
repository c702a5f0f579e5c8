"""The state store's schema has a version and upgrades itself: from nothing, from the release
before the migrations (its `create_all` tables, whole or in part), concurrently, and never
from a revision it does not know. The migrations make exactly the tables the library defines."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ctdata import store
from ctdata.lifecycle.registry import DatasetRegistry
from ctdata.migrations import library_metadata
from ctdata.monitoring.ledger import Ledger
from ctdata.store import StoreSchemaError, pending_revisions, upgrade_store
from tests.store.schema_03ce66b import MODULES, datasets, monitor_runs, publish_runs
from tests.store.schema_03ce66b import registry as legacy_registry

FIRST = "0001"


@pytest.fixture(autouse=True)
def _forget_engines(store_url: str):
    yield
    store.release(store_url)


def schema_drift(url: str) -> list:
    """What differs between the store's tables and those the library defines."""
    with store.create_store_engine(url).connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), library_metadata())


def revision_of(url: str) -> tuple[str, ...]:
    engine = store.create_store_engine(url)
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    engine.dispose()
    return heads


def test_a_new_store_is_made_by_the_migrations_and_matches_the_library(store_url: str) -> None:
    assert pending_revisions(store_url) == [f"{FIRST}: {first_line()}", *later_revisions()]
    applied = upgrade_store(store_url)
    assert [entry.split(":")[0] for entry in applied][0] == FIRST
    assert revision_of(store_url) == (store.head_revision(),)
    assert schema_drift(store_url) == []
    assert upgrade_store(store_url) == []  # current: nothing to do
    assert pending_revisions(store_url) == []


def test_a_store_of_the_release_before_upgrades_with_its_rows(store_url: str) -> None:
    legacy = sa.create_engine(store_url)
    for metadata in MODULES:
        metadata.create_all(legacy)
    when = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    with legacy.begin() as connection:
        connection.execute(
            sa.insert(datasets).values(agency="ocme", slug="deaths", portal_id="abcd-1234")
        )
        connection.execute(
            sa.insert(publish_runs).values(
                dataset_id="abcd-1234", method="upsert", started=when, status="succeeded"
            )
        )
        connection.execute(
            sa.insert(monitor_runs).values(
                dataset_id="abcd-1234",
                agency="ocme",
                slug="deaths",
                dag_id="publish_ocme",
                run_id="scheduled__2025-03-01",
                started=when,
                status="succeeded",
            )
        )
    legacy.dispose()  # fmt: skip
    assert revision_of(store_url) == ()  # no version: made by create_all

    applied = upgrade_store(store_url)

    assert applied[0].startswith(f"{FIRST}: ")
    assert schema_drift(store_url) == []
    registry = DatasetRegistry(store_url)
    assert registry.portal_id("ocme", "deaths") == "abcd-1234"
    assert [r["run_id"] for r in Ledger(store_url).history("abcd-1234")] == [
        "scheduled__2025-03-01"
    ]


def test_a_store_holding_some_of_the_tables_gets_the_rest(store_url: str) -> None:
    """The release before made each module's tables on first use: `ctdata datasets` alone
    left only the registry's."""
    legacy = sa.create_engine(store_url)
    legacy_registry.create_all(legacy)
    legacy.dispose()

    Ledger(store_url).record_step(key(), "extract", {"rows": 3})  # upgrades on first use

    assert revision_of(store_url) == (store.head_revision(),)
    assert schema_drift(store_url) == []


def test_a_store_migrated_by_a_newer_release_is_refused_with_what_to_do(store_url: str) -> None:
    upgrade_store(store_url)
    store.release(store_url)
    engine = sa.create_engine(store_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreSchemaError, match="revision 9999, which this release does not know"):
        DatasetRegistry(store_url)
    with pytest.raises(StoreSchemaError, match="newer ctdata migrated it"):
        pending_revisions(store_url)


def test_a_table_without_a_migration_is_named(store_url: str) -> None:
    metadata = sa.MetaData()
    sa.Table("planned_but_unmigrated", metadata, sa.Column("id", sa.Integer, primary_key=True))
    with pytest.raises(StoreSchemaError, match="no table planned_but_unmigrated.*new_migration.py"):
        store.ensure_tables(metadata, store.engine(store_url))


def _upgrade_in_a_process(url: str, results: multiprocessing.Queue) -> None:
    try:
        results.put(("ok", upgrade_store(url)))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        results.put(("error", repr(exc)))


def test_processes_upgrading_at_once_apply_each_revision_once(store_url: str) -> None:
    """A DAG's first tasks start together on a new store: one migrates, the others wait and
    find it current."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_upgrade_in_a_process, args=(store_url, results))
               for _ in range(4)]  # fmt: skip
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert [kind for kind, _ in outcomes] == ["ok"] * 4, outcomes
    applied = [revision for _, done in outcomes for revision in done]
    assert sorted(entry.split(":")[0] for entry in applied) == sorted(
        [FIRST, *(entry.split(":")[0] for entry in later_revisions())]
    )
    assert schema_drift(store_url) == []


def test_a_new_table_is_one_new_revision_file(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the module docstring of ctdata.store tells a developer: define the table, run
    tools/new_migration.py, and the one file it writes upgrades every store."""
    import importlib.util

    migrations = tmp_path / "migrations"
    shutil.copytree(store.MIGRATIONS, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(store, "MIGRATIONS", migrations)
    monkeypatch.setattr(store, "_scripts_cache", [])
    upgrade_store(store_url)  # a store of this release
    extra = sa.MetaData()
    sa.Table("review_comments", extra, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("text", sa.Text, nullable=False))  # fmt: skip
    import ctdata.migrations

    monkeypatch.setattr(ctdata.migrations, "library_metadata", lambda: [*library_metadata(), extra])
    spec = importlib.util.spec_from_file_location("new_migration", Path("tools/new_migration.py"))
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    before = set(migrations.joinpath("versions").glob("*.py"))
    number = f"{int(store.head_revision()) + 1:04d}"

    assert tool.main(["add the review comments"]) == 0

    written = set(migrations.joinpath("versions").glob("*.py")) - before
    assert len(written) == 1
    assert next(iter(written)).name == f"{number}_add_the_review_comments.py"
    store.release(store_url)
    monkeypatch.setattr(store, "_scripts_cache", [])  # a new process reads the new file
    assert upgrade_store(store_url) == [f"{number}: add the review comments"]
    with store.engine(store_url).connect() as connection:
        assert sa.inspect(connection).has_table("review_comments")


def first_line() -> str:
    return store._scripts().get_revision(FIRST).doc.strip()


def later_revisions() -> list[str]:
    """Revisions after the first, as upgrade_store names them (0002 on)."""
    scripts = store._scripts()
    later = [s for s in scripts.iterate_revisions("head", FIRST) if s.revision != FIRST]
    return [f"{s.revision}: {s.doc.strip()}" for s in reversed(later)]


def key():
    from ctdata.monitoring.ledger import RunKey

    return RunKey("ocme", "deaths", "abcd-1234", "publish_ocme", "manual__1")


def test_revisions_are_numbered_in_sequence_each_following_the_one_before() -> None:
    """`head_revision` reads the head from the file names (no Alembic import on a task's
    path): that holds only while the numbers and the chain agree."""
    scripts = store._scripts()
    chain = list(reversed(list(scripts.walk_revisions())))
    assert [s.revision for s in chain] == [f"{n:04d}" for n in range(1, len(chain) + 1)]
    assert [s.down_revision for s in chain] == [None, *(s.revision for s in chain[:-1])]
    for script in chain:
        assert Path(script.path).name.startswith(f"{script.revision}_")
    assert scripts.get_current_head() == store.head_revision()


def test_a_current_store_is_recognised_without_alembic(store_url: str) -> None:
    import subprocess
    import sys

    upgrade_store(store_url)
    probe = (
        "import sys; from ctdata.lifecycle.registry import DatasetRegistry; "
        f"DatasetRegistry({store_url!r}); print(sorted(m for m in sys.modules if m.startswith('alembic')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
