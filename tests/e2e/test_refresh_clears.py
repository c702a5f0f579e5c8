"""Second publications through `airflow dags test publish_ocme`: a count published one year and
suppressed the next is cleared on the portal (Socrata keeps fields an upsert leaves out), and a
run's raw extracts are deleted once it has published but kept after a failure."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from ctdata.demo.environment import ADMIN, APP_TOKEN, LocalSetup
from ctdata.demo.runner import local_portal, run_dag
from ctdata.specs import load_all
from ctdata.staging import Staging

pytestmark = pytest.mark.e2e

TOWNS = "ocme-twn7"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The demo setup after one successful run of publish_ocme."""
    from socrata_emulator.testing import sodapy_client

    setup = LocalSetup(tmp_path_factory.mktemp("e2e-refresh"))
    setup.prepare()
    with local_portal(setup, load_all().agencies) as emulator:
        client = sodapy_client(emulator, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)
        env = setup.env("127.0.0.1", emulator.port)
        ok, log = run_dag(setup, env, "publish_ocme")
        assert ok, Path(log).read_text()[-4000:]
        yield setup, env, client


def _towns(client) -> list[dict]:
    return list(client.get_all(TOWNS, order=":id"))


def _source(setup: LocalSetup) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{setup.sources_dir / 'ocme.db'}")


def _staged_runs(setup: LocalSetup, slug: str) -> list[Path]:
    folder = setup.var_dir / "staging" / "ocme" / slug
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


def test_published_run_leaves_no_raw_extract(published) -> None:
    setup, _, _ = published
    assert _staged_runs(setup, "deaths_by_town") == []
    assert _staged_runs(setup, "deaths_records") == []


def test_count_suppressed_on_the_next_run_is_cleared(published) -> None:
    setup, env, client = published
    sevens = [
        r
        for r in _towns(client)
        if r.get("deaths") == "7" and "Total" not in (r["town"], r["year"], r["sex"])
    ]
    engine = _source(setup)
    with engine.connect() as connection:
        for seven in sevens:  # a cell whose 7 records all name the town itself (no village)
            cases = connection.execute(
                sa.text(
                    'SELECT "ID" FROM accidental_drug_related_deaths '
                    'WHERE upper("DeathCity") = upper(:town) AND "Sex" = :sex '
                    'AND substr("Date", 7, 4) = :year'
                ),
                {"town": seven["town"], "sex": seven["sex"], "year": seven["year"]},
            ).all()
            if len(cases) == 7:
                break
        else:
            pytest.fail("no cell of 7 deaths found directly in the source")
    with engine.begin() as connection:  # two cases move to Unknown: the cell becomes 5
        for (case_id,) in cases[:2]:
            connection.execute(
                sa.text(
                    'UPDATE accidental_drug_related_deaths SET "DeathCity" = NULL WHERE "ID" = :id'
                ),
                {"id": case_id},
            )
    engine.dispose()

    ok, log = run_dag(setup, env, "publish_ocme")
    assert ok, Path(log).read_text()[-4000:]

    rows = _towns(client)
    cell = next(r for r in rows if r["cell_id"] == seven["cell_id"])
    assert "deaths" not in cell and cell["deaths_suppressed"] is True
    leaks = [r for r in rows if r.get("deaths_suppressed") is True and "deaths" in r]
    assert leaks == [], f"counts published beside their suppression flag: {leaks[:3]}"
    counts = [int(r["deaths"]) for r in rows if "deaths" in r]
    assert not [n for n in counts if 1 <= n <= 5]


def test_failed_run_keeps_its_extract_until_the_window_passes(published) -> None:
    setup, env, _ = published
    engine = _source(setup)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                'INSERT INTO accidental_drug_related_deaths ("ID", "Date", "Sex", "DeathCity") '
                "VALUES ('30-0002', '01/01/2030 12:00:00 AM', 'Male', 'HARTFORD')"
            )
        )
    try:
        ok, _ = run_dag(setup, env, "publish_ocme")
        assert not ok
        [kept] = _staged_runs(setup, "deaths_by_town")  # failed its source suite
        assert (kept / "source.parquet").exists()
        # The records are protected with the town table (one population): not published
        # without it, so their extract is kept too, for the same window.
        [records] = _staged_runs(setup, "deaths_records")
        assert records.name == kept.name and (records / "source.parquet").exists()
        staging = Staging(root=(setup.var_dir / "staging").as_uri())
        assert staging.sweep("ocme", dt.timedelta(days=7)) == []
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
        swept = staging.sweep("ocme", dt.timedelta(days=7), now=later)
        # This run's folders (every table of the population's: one run id).
        assert {Path(p).name for p in swept} == {kept.name}
        assert _staged_runs(setup, "deaths_by_town") == _staged_runs(setup, "deaths_records") == []
    finally:
        with engine.begin() as connection:
            connection.execute(
                sa.text("DELETE FROM accidental_drug_related_deaths WHERE \"ID\" = '30-0002'")
            )
        engine.dispose()
