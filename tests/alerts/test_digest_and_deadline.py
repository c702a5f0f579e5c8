"""The nightly digest (one message per recipient, only what needs attention) and the deadline
alert (an agency DAG carries one derived from its update frequencies; the triggerer's call
sends the late-run message), through the SMTP provider to a real SMTP server."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil

import pytest
import yaml
from sqlalchemy import update

from ctdata import settings
from ctdata.monitoring.ledger import Ledger, RunKey, runs
from ctdata.specs import load_all

NOW = dt.datetime(2026, 7, 15, 16, 0, tzinfo=dt.UTC)
DAILY_OFFICER = "dly.officer@ct.gov"


@pytest.fixture
def world(tmp_path, monkeypatch):
    """The repo's agencies plus a daily one, and a ledger: OCME's town table failing, its
    records never published, one daily dataset overdue and one due tomorrow."""
    agencies = tmp_path / "agencies"
    shutil.copytree(settings.current().agencies_dir, agencies)
    raw = yaml.safe_load((agencies / "opm.yaml").read_text())
    first = raw["datasets"][0]
    first["metadata"]["update_frequency"] = "Daily"
    second = yaml.safe_load(yaml.safe_dump(first))
    first.update(slug="late", portal_id="dlyl-ate1")
    second.update(slug="fresh", portal_id="dlyf-rsh1")
    raw.update(code="dly", name="Daily Agency", access_plan=[], datasets=[first, second],
               data_officer={"name": "Daily Officer", "email": DAILY_OFFICER})  # fmt: skip
    (agencies / "dly.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    monkeypatch.setenv("CTDATA_AGENCIES_DIR", str(agencies))
    monkeypatch.setenv("CTDATA_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("CTDATA_AIRFLOW_URL", "http://airflow.example.ct.gov")
    ledger = Ledger()
    for slug, portal_id, run_id, when in (
        ("late", "dlyl-ate1", "old", NOW - dt.timedelta(days=3)),
        ("fresh", "dlyf-rsh1", "new", NOW - dt.timedelta(hours=1)),
    ):
        key = RunKey("dly", slug, portal_id, "publish_dly", run_id)
        ledger.record_step(key, "publish", {"created": 1, "updated": 0, "deleted": 0})
        ledger.record_step(key, "sync_metadata", {})
        with ledger.engine.begin() as conn:
            conn.execute(
                update(runs).where(runs.c.run_id == run_id).values(started=when, finished=when)
            )
    ledger.record_failure(
        RunKey("ocme", "deaths_by_town", "ocme-twn7", "publish_ocme", "f1"),
        "publish", "PortalUnavailableError", "The portal kept failing past the retry budget",
    )  # fmt: skip
    ledger.dispose()
    return agencies


def test_one_digest_per_recipient_with_only_what_needs_attention(world, smtp) -> None:
    from ctdata.airflow.alerts import send_digests

    sink, _ = smtp
    result = send_digests(now=NOW)
    by_to = {m.to[0]: m for m in sink.messages}
    assert all(len(m.to) == 1 for m in sink.messages)
    opm_global = settings.current().alert_opm_email
    assert set(by_to) == {opm_global, "ocme.data@ct.gov", DAILY_OFFICER}
    assert result["sent"] == 3
    assert "opm.data@ct.gov" not in by_to  # OPM's towns list needs no attention: no mail
    everything = by_to[opm_global]
    # overdue: the daily one, and OCME's two annual ones never published (deaths_by_age is
    # not even on the portal yet: its DAG creates it)
    assert everything.subject.endswith("1 failing, 3 overdue, 1 due soon")
    for title_part in (
        "Accidental Drug Related Deaths by Town",
        "De-identified Records",
        "Accidental Drug Related Deaths by Age Group and Year (not on the portal yet)",
        "dlyl-ate1",
        "dlyf-rsh1",
    ):
        assert title_part in everything.html
    assert 'href="None"' not in everything.html
    ocme = by_to["ocme.data@ct.gov"]
    assert ocme.subject.endswith("1 failing, 2 overdue, 0 due soon")
    assert "dlyl-ate1" not in ocme.html and "failed at publish" in ocme.html
    daily = by_to[DAILY_OFFICER]
    assert daily.subject.endswith("0 failing, 1 overdue, 1 due soon")
    assert "ocme-twn7" not in daily.html
    assert "http://airflow.example.ct.gov/ctdata/" in daily.html


def test_agency_dags_carry_a_deadline_from_their_update_frequency(world, monkeypatch) -> None:
    import sys

    from ctdata.airflow.dag_factory import build_agency_dag

    monkeypatch.setattr(sys, "argv", ["airflow", "scheduler"])
    specs = {a.code: a for a in load_all(world).agencies}
    ocme = build_agency_dag(specs["ocme"]).deadline[0]
    assert ocme.interval == dt.timedelta(days=3)  # annual datasets
    assert ocme.callback.path == "ctdata.airflow.alerts.DeadlineNotifier"
    assert ocme.callback.kwargs == {"agency_code": "ocme"}
    assert build_agency_dag(specs["dly"]).deadline[0].interval == dt.timedelta(hours=6)
    monkeypatch.setattr(sys, "argv", ["airflow", "dags", "test", "publish_dly"])
    assert not build_agency_dag(specs["dly"]).deadline  # apache/airflow#73428


def test_a_missed_deadline_sends_the_late_run_message(world, smtp) -> None:
    from ctdata.airflow.alerts import DeadlineNotifier

    sink, _ = smtp
    deadline = dt.datetime(2026, 7, 15, 16, 0, tzinfo=dt.UTC)
    context = {  # what the scheduler hands the triggerer when a deadline is missed
        "dag_run": {"dag_id": "publish_dly", "dag_run_id": "scheduled__2026-07-15T10:00:00+00:00"},
        "deadline": {"id": "0199", "deadline_time": deadline.isoformat()},
    }

    async def missed() -> None:
        await DeadlineNotifier(agency_code="dly", context=context)

    asyncio.run(missed())
    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert message.to == sorted([DAILY_OFFICER, settings.current().alert_opm_email])
    assert message.subject == "[CT Open Data] LATE: publish_dly has not finished by its deadline"
    assert "2026-07-15 12:00 EDT" in message.html
    assert (
        "http://airflow.example.ct.gov/dags/publish_dly/runs/scheduled__2026-07-15T10:00:00+00:00"
        in message.html
    )
    assert "dlyl-ate1" in message.html and "ocme-twn7" not in message.html


def test_the_late_run_message_names_a_dataset_not_on_the_portal_yet(world) -> None:
    from ctdata.airflow.alerts import DeadlineNotifier

    context = {"dag_run": {"dag_id": "publish_ocme", "dag_run_id": "scheduled__x"}, "deadline": {}}
    html = DeadlineNotifier(agency_code="ocme").message(context).html
    assert "Accidental Drug Related Deaths by Age Group and Year (not on the portal yet)" in html
    assert 'href="None"' not in html and 'href="https://data.ct.gov/d/ocme-twn7"' in html
