"""End to end: the OCME demo's three tables, published twice by `publish_ocme` (the second time
from a changed source), then attacked as the issue's attacker would: `ctdata audit --agency`
with the portal's tables, the first release's CSV exports kept in a folder, and the releases
the pipeline recorded. Nothing from 1 to 5 can be worked out."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from ctdata.demo.environment import ADMIN, APP_TOKEN, LocalSetup
from ctdata.demo.runner import latest_xcoms, local_portal, run_dag
from ctdata.specs import load_all

pytestmark = pytest.mark.e2e

OCME = {"deaths_by_town": "ocme-twn7", "deaths_records": "rybz-nyjw"}


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    from socrata_emulator.testing import sodapy_client

    setup = LocalSetup(tmp_path_factory.mktemp("population-var"))
    setup.prepare()
    with local_portal(setup, load_all().agencies) as emulator:
        client = sodapy_client(emulator, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)
        env = setup.env("127.0.0.1", emulator.port)
        yield setup, env, client, f"http://127.0.0.1:{emulator.port}"


def _audit(env: dict[str, str], portal_url: str, *extra: str) -> subprocess.CompletedProcess:
    ctdata = str(Path(sys.executable).with_name("ctdata"))
    environment = {**os.environ, **env, "SOCRATA_USERNAME": ADMIN[0], "SOCRATA_PASSWORD": ADMIN[1],
                   "SOCRATA_APP_TOKEN": APP_TOKEN}  # fmt: skip
    return subprocess.run(
        [ctdata, "audit", "--agency", "ocme", "--portal", portal_url, *extra],
        env=environment, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip


def _export(client, dataset_id: str, path: Path) -> None:  # noqa: ANN001
    rows = list(client.get_all(dataset_id, order=":id"))
    fields = sorted({k for r in rows for k in r if not k.startswith(":")})
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows(rows)


def _move_deaths(setup: LocalSetup, client) -> tuple[str, str]:  # noqa: ANN001
    """The changed source: a town-year of 27 deaths re-coded, 23 of them, to Hartford."""
    towns = client.get_all(
        "ocme-twn7", where="sex = 'Total' AND town != 'Total' AND year != 'Total'"
    )
    town, year = next((r["town"], r["year"]) for r in towns if r.get("deaths") == "27")
    engine = sa.create_engine(f"sqlite:///{setup.sources_dir / 'ocme.db'}")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE accidental_drug_related_deaths SET \"DeathCity\" = 'HARTFORD' WHERE rowid IN "
                '(SELECT rowid FROM accidental_drug_related_deaths WHERE upper("DeathCity") = '
                'upper(:town) AND substr("Date", 7, 4) = :year LIMIT 23)'
            ),
            {"town": town, "year": year},
        )
    engine.dispose()
    return town, year


def test_two_releases_of_three_linked_tables_disclose_nothing(portal, tmp_path: Path) -> None:
    setup, env, client, url = portal
    ok, log = run_dag(setup, env, "publish_ocme")
    assert ok, Path(log).read_text()[-4000:]
    protected = latest_xcoms(setup, "publish_ocme")["ocme_deaths.protect_population"]
    assert set(protected) == {"deaths_by_town", "deaths_by_age", "deaths_records"}
    assert all("joint audit passed" in p["joint_audit"] for p in protected.values())
    first = _audit(env, url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "ocme.ocme_deaths" in first.stdout and "0 disclosed" in first.stdout

    history = tmp_path / "history"  # what someone who downloaded release 1 keeps
    created = latest_xcoms(setup, "publish_ocme")["deaths_by_age.onboard"]["portal_id"]
    for dataset_id in [*OCME.values(), created]:
        _export(client, dataset_id, history / "release-1" / f"{dataset_id}.csv")
    town, _ = _move_deaths(setup, client)
    ok, log = run_dag(setup, env, "publish_ocme")
    assert ok, Path(log).read_text()[-4000:]
    second = latest_xcoms(setup, "publish_ocme")["ocme_deaths.protect_population"]
    assert second["deaths_by_town"]["sticky"] > 0  # cells release 1 hid stay hidden
    again = _audit(env, url, "--history", str(history))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 disclosed" in again.stdout
    moved = client.get_all("ocme-twn7", where=f"town = '{town}' AND sex = 'Total'")
    assert all(r.get("deaths") not in {"1", "2", "3", "4", "5"} for r in moved)
