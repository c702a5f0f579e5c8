"""End to end: a dataset retiring through `airflow dags test publish_opm`, the runs dated on the
notice day and 30 days later as the scheduler would date them (the demo's retirement act)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pendulum
import pytest

from ctdata.demo.environment import ADMIN, APP_TOKEN, LocalSetup
from ctdata.demo.retirement import retirement_spec, run_on
from ctdata.demo.runner import latest_xcoms, local_portal, run_dag
from ctdata.monitoring.ledger import Ledger
from ctdata.specs import load_all
from ctdata.specs.registers import load_registers_config

pytestmark = pytest.mark.e2e


def view_row(setup: LocalSetup, portal_url: str) -> dict:
    """The towns list as the Open Data view shows it, from the setup's state store."""
    from ctdata.monitoring.views import Links, OpenDataViews

    views = OpenDataViews(setup.state_url, links=Links(portal_url))
    try:
        return next(r for r in views.datasets() if r["key"] == "opmt-wn01")
    finally:
        views.dispose()


def public(view: dict) -> str:
    return "public" if any("public" in g.get("flags", []) for g in view["grants"]) else "private"


def test_towns_list_retires_over_thirty_days(tmp_path_factory) -> None:
    from socrata_emulator.testing import sodapy_client

    setup = LocalSetup(tmp_path_factory.mktemp("retire-var"))
    setup.prepare()
    register = load_registers_config().retired_assets.portal_id
    notice = pendulum.now("America/New_York").date()
    with local_portal(setup, load_all().agencies) as emulator:
        client = sodapy_client(emulator, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)
        env = setup.env("127.0.0.1", emulator.port)
        ok, log = run_dag(setup, env, "publish_opm")  # published as usual first
        assert ok, Path(log).read_text()[-4000:]
        env["CTDATA_AGENCIES_DIR"] = str(retirement_spec(setup, notice))

        ok, log = run_on(setup, env, "publish_opm", notice)
        assert ok, Path(log).read_text()[-4000:]
        assert latest_xcoms(setup, "publish_opm")["towns.retire"]["stage"] == "mid-retirement"
        view = client.get_metadata("opmt-wn01")
        assert view["name"] == "ARCHIVE: Connecticut Towns and Counties"
        assert "archive" in view["tags"] and "planning regions" in view["description"]
        assert any("public" in g.get("flags", []) for g in view["grants"])
        [row] = client.get(register, where="row_id = 'opmt-wn01'")
        assert row["status"] == "mid-retirement"
        shown = view_row(setup, emulator.url)  # the view says what the portal shows
        assert (shown["status"], shown["visibility"]) == ("retiring", public(view))
        assert shown["retirement"]["stage"] == "mid-retirement" and shown["next_due"] is None

        later = notice + dt.timedelta(days=30)
        ok, log = run_on(setup, env, "publish_opm", later)
        assert ok, Path(log).read_text()[-4000:]
        done = latest_xcoms(setup, "publish_opm")["towns.retire"]
        assert (done["stage"], done["made_private"]) == ("retired", True)
        view = client.get_metadata("opmt-wn01")
        assert not any("public" in g.get("flags", []) for g in view["grants"])
        [row] = client.get(register, where="row_id = 'opmt-wn01'")
        assert row["status"] == "retired" and row["retired_date"].startswith(later.isoformat())
        shown = view_row(setup, emulator.url)
        assert (shown["status"], shown["visibility"]) == ("retired", public(view)) == (
            "retired", "private")  # fmt: skip
        assert shown["retirement"]["retired_date"] == later.isoformat()
        assert "Retirement of towns (opmt-wn01)" in Path(log).read_text()  # the task log, in words

    ledger = Ledger(setup.state_url)  # each day's retire step is recorded, as any step
    retired, noticed, published = ledger.history("opmt-wn01")
    assert [r["status"] for r in (retired, noticed, published)] == ["succeeded"] * 3
    assert set(ledger.run("opmt-wn01", retired["run_id"])["steps"]) == {"retire"}
