"""An unattended refresh: Airflow's real scheduler, DAG processor and API server as processes,
an agency whose datasets run every minute and every other minute, nobody triggering anything.

The Airflow is a bare one, set up as README "Add it to an existing Airflow" says and nothing
more: a home made by `airflow db migrate` alone (no `socrata` pool), the DAG folder and the
portal connection as variables, `ctdata doctor --upgrade` for the state store. The doctor then
reports the missing pool; the scheduler's start creates it (the package's listener plugin), so
the tasks that write to the portal run instead of waiting on it forever.

Which scheduled run published which dataset is read from Airflow's own records (dag_run and
task_instance), and checked against the due rule: a dataset publishes in a run when its own
schedule has fired since the run that last published it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pendulum
import pytest
import sqlalchemy as sa
import yaml

from ctdata import settings
from ctdata.demo.environment import ADMIN, APP_TOKEN, PUBLISHER, LocalSetup
from ctdata.demo.runner import local_portal
from ctdata.demo.services import airflow_services
from ctdata.specs import load_all

pytestmark = pytest.mark.e2e

SCHEDULES = {"every_minute": "* * * * *", "every_other_minute": "*/2 * * * *"}
RUNS_WANTED = 3
WAIT_SECONDS = 900  # generous: a loaded machine runs each task process slowly


def _write_agency(folder: Path) -> None:
    raw = yaml.safe_load((settings.current().agencies_dir / "opm.yaml").read_text())
    template = raw["datasets"][0]
    template["source"]["path"] = str(
        settings.PROJECT_ROOT / "include/ctdata/data/ct_town_county.csv"
    )
    suite = ["opm_towns_publishable"]
    template["expectations"] = {"source": suite, "publishable": suite}
    datasets = []
    for index, (slug, cron) in enumerate(SCHEDULES.items()):
        dataset = yaml.safe_load(yaml.safe_dump(template))
        dataset.update(slug=slug, portal_id=f"schd-00{index}a", schedule=cron)
        datasets.append(dataset)
    raw.update(code="sched", name="Scheduling Test Agency", access_plan=[], datasets=datasets)
    (folder / "sched.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def _airflow_db(home: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{home / 'airflow.db'}")


def _bare_airflow(home: Path, dags_dir: Path, portal_port: int, extra: dict[str, str]) -> dict:
    """The variables of an agency's own Airflow with ctdata added as the README says (no
    variable of the embedded setup), and its home made by `airflow db migrate` alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CTDATA_"))}
    connection = {"conn_type": "socrata", "host": "127.0.0.1", "port": portal_port,
                  "schema": "http", "login": PUBLISHER[0], "password": PUBLISHER[1],
                  "extra": {"app_token": APP_TOKEN}}  # fmt: skip
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(dags_dir),
        AIRFLOW_CONN_SOCRATA_DEFAULT=json.dumps(connection),
        GX_ANALYTICS_ENABLED="False",
        **extra,
    )
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    return env


def _doctor(env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    ctdata = str(Path(sys.executable).with_name("ctdata"))
    return subprocess.run([ctdata, "doctor", *flags], env=env, capture_output=True, text=True)


def _finished_scheduled_runs(engine: sa.Engine) -> list[tuple[str, str, dt.datetime]]:
    query = sa.text(
        "SELECT run_id, state, run_after FROM dag_run WHERE dag_id = 'publish_sched' "
        "AND run_type = 'scheduled' AND state IN ('success', 'failed') ORDER BY run_after"
    )
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def _published(engine: sa.Engine, run_id: str) -> dict[str, dt.datetime]:
    """Datasets whose publish task succeeded in the run, with when the dataset's first task
    started: the start of its run, which the ledger records as its last successful publish (a
    tick that fires while a slow run is still publishing is made up at the next run)."""
    query = sa.text(
        "SELECT task_id, start_date, state FROM task_instance WHERE dag_id = 'publish_sched' "
        "AND run_id = :run AND task_id LIKE '%.%' AND start_date IS NOT NULL"
    )
    with engine.connect() as connection:
        rows = connection.execute(query, {"run": run_id}).all()
    started: dict[str, dt.datetime] = {}
    for task_id, start, _ in rows:
        slug = task_id.split(".")[0]
        started[slug] = min(started.get(slug, _utc(start)), _utc(start))
    published = {
        t.split(".")[0] for t, _, state in rows if t.endswith(".publish") and state == "success"
    }
    return {slug: started[slug] for slug in published}


def _utc(value: object) -> dt.datetime:
    return pendulum.parse(str(value), tz="UTC")


def _ticks_between(cron: str, after: dt.datetime | None, until: dt.datetime) -> bool:
    """Did `cron` fire (on the state's clock) in (after, until]? `after` is when the dataset's
    last published run started, as Airflow recorded it."""
    from ctdata.clock import previous_tick

    return after is None or previous_tick(cron, until) > after


def _enough_runs(engine: sa.Engine) -> bool:
    """RUNS_WANTED finished runs, two of which published the less frequent dataset (on a loaded
    machine a run can outlast the two-minute tick, so that may take more runs)."""
    runs = _finished_scheduled_runs(engine)
    published = [_published(engine, run_id) for run_id, _, _ in runs]
    return len(runs) >= RUNS_WANTED and sum("every_other_minute" in p for p in published) >= 2


def _diagnosis(engine: sa.Engine, logs: Path) -> str:
    with engine.connect() as connection:
        runs = connection.execute(sa.text("SELECT dag_id, run_id, state FROM dag_run")).all()
        errors = connection.execute(sa.text("SELECT filename, stacktrace FROM import_error")).all()
    tail = (logs / "scheduler.log").read_text()[-3000:]
    return f"no {RUNS_WANTED} finished runs: runs {runs}, import errors {errors}\n{tail}"


@pytest.fixture(scope="module")
def unattended(tmp_path_factory):
    from socrata_emulator.testing import sodapy_client

    root = tmp_path_factory.mktemp("e2e-scheduler")
    setup = LocalSetup(root / "var")  # the portal stand-in's folders and the state store only
    agencies_dir, dags_dir, home = root / "agencies", root / "dags", root / "airflow-home"
    agencies_dir.mkdir()
    dags_dir.mkdir()
    _write_agency(agencies_dir)
    (dags_dir / "publish_agencies.py").write_text(
        (settings.PROJECT_ROOT / "dags" / "publish_agencies.py").read_text()
    )
    agencies = load_all(agencies_dir).agencies
    with local_portal(setup, agencies) as portal:
        env = _bare_airflow(home, dags_dir, portal.port, {
            "CTDATA_VAR_DIR": str(setup.var_dir),
            "CTDATA_AGENCIES_DIR": str(agencies_dir),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
        })  # fmt: skip
        before = _doctor(env, "--upgrade")
        engine = _airflow_db(home)
        with airflow_services(env, setup.logs_dir / "services"):
            deadline = time.monotonic() + WAIT_SECONDS
            while not _enough_runs(engine):
                if time.monotonic() > deadline:
                    pytest.fail(_diagnosis(engine, setup.logs_dir / "services"))
                time.sleep(5)
        after = _doctor(env)
        client = sodapy_client(portal, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)
        yield engine, client, before, after
        engine.dispose()


def test_a_bare_airflow_lacks_only_the_pool_which_the_scheduler_creates(unattended) -> None:
    _, _, before, after = unattended
    assert before.returncode == 1, before.stdout + before.stderr[-2000:]
    assert "done: state store" in before.stdout
    problems = [line for line in before.stdout.splitlines() if ". Fix: " in line]
    assert len(problems) == 1 and problems[0].startswith("pool 'socrata': does not exist"), (
        before.stdout
    )
    assert after.returncode == 0, after.stdout


def test_scheduled_runs_publish_each_dataset_when_due(unattended) -> None:
    engine, *_ = unattended
    runs = _finished_scheduled_runs(engine)
    assert [state for _, state, _ in runs] == ["success"] * len(runs)
    last_published: dt.datetime | None = None
    history = []
    for run_id, _, run_after in runs:
        at = _utc(run_after)
        published = _published(engine, run_id)
        history.append((at.isoformat(), sorted(published)))
        due = _ticks_between(SCHEDULES["every_other_minute"], last_published, at)
        assert ("every_other_minute" in published) is due, f"run at {at}: history {history}"
        last_published = published.get("every_other_minute", last_published)
    # The dataset on the DAG's own schedule publishes in every run.
    assert all("every_minute" in p for _, p in history), history
    # Before the fix the less frequent dataset was skipped on every scheduled run.
    assert sum("every_other_minute" in p for _, p in history) >= 2, history


def test_the_portal_holds_what_the_scheduled_runs_published(unattended) -> None:
    _, client, *_ = unattended
    for index in range(len(SCHEDULES)):
        rows = client.get(f"schd-00{index}a", select="count(*) AS n")
        assert int(rows[0]["n"]) == 169
