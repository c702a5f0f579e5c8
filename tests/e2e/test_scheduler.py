"""An unattended refresh: Airflow's real scheduler, DAG processor and API server as processes,
an agency whose datasets run every minute and every other minute, nobody triggering anything.

Which scheduled run published which dataset is read from Airflow's own records (dag_run and
task_instance), and checked against the due rule: a dataset publishes in a run when its own
schedule has fired since the run that last published it.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pendulum
import pytest
import sqlalchemy as sa
import yaml

from ctdata import settings
from ctdata.demo.environment import ADMIN, APP_TOKEN, LocalSetup
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


def _airflow_db(setup: LocalSetup) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{setup.airflow_home / 'airflow.db'}")


def _finished_scheduled_runs(engine: sa.Engine) -> list[tuple[str, str, dt.datetime]]:
    query = sa.text(
        "SELECT run_id, state, run_after FROM dag_run WHERE dag_id = 'publish_sched' "
        "AND run_type = 'scheduled' AND state IN ('success', 'failed') ORDER BY run_after"
    )
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def _published(engine: sa.Engine, run_id: str) -> dict[str, dt.datetime]:
    """Datasets whose publish task succeeded in the run, with when that task started."""
    query = sa.text(
        "SELECT task_id, start_date FROM task_instance WHERE dag_id = 'publish_sched' "
        "AND run_id = :run AND task_id LIKE '%.publish' AND state = 'success'"
    )
    with engine.connect() as connection:
        rows = connection.execute(query, {"run": run_id})
        return {task_id.split(".")[0]: _utc(started) for task_id, started in rows}


def _utc(value: object) -> dt.datetime:
    return pendulum.parse(str(value), tz="UTC")


def _ticks_between(cron: str, after: dt.datetime | None, until: dt.datetime) -> bool:
    """Did `cron` fire (on the state's clock) in (after, until]? `after` is when the dataset's
    last publish started, as Airflow recorded it."""
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
    setup = LocalSetup(root / "var")
    agencies_dir, dags_dir = root / "agencies", root / "dags"
    agencies_dir.mkdir()
    dags_dir.mkdir()
    _write_agency(agencies_dir)
    (dags_dir / "publish_agencies.py").write_text(
        (settings.PROJECT_ROOT / "dags" / "publish_agencies.py").read_text()
    )
    setup.prepare()
    agencies = load_all(agencies_dir).agencies
    with local_portal(setup, agencies) as portal:
        env = {
            **setup.env("127.0.0.1", portal.port),
            "CTDATA_AGENCIES_DIR": str(agencies_dir),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_dir),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
        }
        engine = _airflow_db(setup)
        with airflow_services(env, setup.logs_dir / "services"):
            deadline = time.monotonic() + WAIT_SECONDS
            while not _enough_runs(engine):
                if time.monotonic() > deadline:
                    pytest.fail(_diagnosis(engine, setup.logs_dir / "services"))
                time.sleep(5)
        client = sodapy_client(portal, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)
        yield engine, client
        engine.dispose()


def test_scheduled_runs_publish_each_dataset_when_due(unattended) -> None:
    engine, _ = unattended
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
    _, client = unattended
    for index in range(len(SCHEDULES)):
        rows = client.get(f"schd-00{index}a", select="count(*) AS n")
        assert int(rows[0]["n"]) == 169
