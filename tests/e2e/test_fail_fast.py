"""Each error retrying cannot fix fails its task at once, through real tasks of real DAGs
(`airflow dags test`): the task is FAILED on its first try, never UP_FOR_RETRY, its log names
what to fix, and the agency's other datasets are not stopped.

One agency, one dataset per kind of error, and one dataset that is fine (it publishes):
a word in a number column (CSV), numbers and text mixed in a SQL column (what pyarrow refused
with a raw ArrowInvalid, retried three times), a missing SQLite file, a suite that does not
exist, a misspelt spec field, a pinned dataset the portal answers 404 for (in `review`); and
`usage_metrics` signing in with a wrong password (401 in its first task).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from ctdata import settings
from ctdata.demo.environment import ADMIN, APP_TOKEN, LocalSetup
from ctdata.demo.runner import local_portal
from ctdata.specs import load_all

pytestmark = pytest.mark.e2e

AGENCY = "failfast"
DAG = f"publish_{AGENCY}"
METADATA = {
    "title": "Connecticut State Parks",
    "description": "One row per state park in Connecticut, with the town it is in and its area "
    "in acres. The list comes from the park records of the Department of Energy and "
    "Environmental Protection.",
    "category": "Environment and Natural Resources",
    "tags": ["parks"],
    "row_label": "State park",
    "source_link": "https://portal.ct.gov/deep/state-parks",
    "geographic_unit": "Municipality",
    "temporal_coverage": "current",
    "attribution": "Department of Energy and Environmental Protection",
    "contact_email": "deep.opendata@ct.gov",
    "update_frequency": "Monthly",
}
COLUMNS = [
    {"name": "Park", "field": "park", "type": "text", "description": "Name of the state park"},
    {"name": "Acres", "field": "acres", "type": "number", "description": "Area in acres"},
]
PARKS = "park,acres\nHammonasset,1100\nSleeping Giant,1465\nGillette Castle,184\n"
# dataset -> (the task that must fail on its first try, words its log must hold)
FAILURES = {
    "word_in_number": (
        "extract",
        ["SourceValueError", "column 'acres'", "row 2", "'two'", "line 3"],
    ),  # fmt: skip
    "mixed_sql": (
        "extract",
        ["column 'yr' holds whole numbers, but row 3 of the query's result holds text"],
    ),  # fmt: skip
    "missing_db": ("extract", ["SQLite database", "does not exist", "nothing was created"]),
    "no_such_suite": ("extract", ["PreflightFailed", "nonexistent_suite", "not found"]),
    "typo": ("spec_error", ["portl_id", "did you mean 'portal_id'"]),
    "gone": ("review", ["PortalRefusedError", "404"]),
}


def _dataset(slug: str, source: dict, **extra) -> dict:
    suites = {"source": ["parks"], "publishable": ["parks"]}
    return {"slug": slug, "portal_id": extra.pop("portal_id", None), "metadata": METADATA,
            "source": source, "columns": COLUMNS, "row_identifier": "park",
            "expectations": extra.pop("expectations", suites), **extra}  # fmt: skip


def _write_agency(root: Path) -> None:
    agencies, suites = root / "agencies", root / "expectations"
    agencies.mkdir()
    suites.mkdir()
    (agencies / "parks.csv").write_text(PARKS)
    (agencies / "parks_word.csv").write_text(PARKS.replace("1465", "two"))
    engine = sa.create_engine(f"sqlite:///{root / 'parks.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE parks (park TEXT, acres INTEGER, yr INTEGER)"))
        for park, yr in (("A", 2020), ("B", 2021), ("C", "2O23")):
            connection.execute(
                sa.text("INSERT INTO parks VALUES (:p, 10, :y)"), {"p": park, "y": yr}
            )
    engine.dispose()
    suite = {"name": "parks", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "park"}}]}  # fmt: skip
    (suites / "parks.json").write_text(json.dumps(suite))
    csv = {"kind": "csv", "path": "parks.csv"}
    datasets = [
        _dataset("good", csv, portal_id="good-0001"),
        _dataset("word_in_number", {"kind": "csv", "path": "parks_word.csv"}),
        _dataset("mixed_sql", {"kind": "sql", "url": f"sqlite:///{root / 'parks.db'}",
                               "query": "SELECT park, acres, yr FROM parks ORDER BY park"}),
        _dataset("missing_db", {"kind": "sql", "url": f"sqlite:///{root / 'typo.db'}",
                                "query": "SELECT park, acres FROM parks"}),
        _dataset("no_such_suite", csv, expectations={"source": ["nonexistent_suite"],
                                                     "publishable": ["parks"]}),
        {**_dataset("typo", csv), "portl_id": "typo-0001"},
        _dataset("gone", csv, portal_id="gone-0001"),
    ]  # fmt: skip
    spec = {"code": AGENCY, "name": "Department of Energy and Environmental Protection",
            "data_officer": {"name": "DEEP Open Data", "email": "deep.opendata@ct.gov"},
            "datasets": datasets}  # fmt: skip
    (agencies / f"{AGENCY}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


def _airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    airflow = str(Path(sys.executable).with_name("airflow"))
    return subprocess.run([airflow, *args], env=env, capture_output=True, text=True, timeout=1800)


def _tries(setup: LocalSetup, dag_id: str) -> dict[str, tuple[str, int]]:
    engine = sa.create_engine(f"sqlite:///{setup.airflow_home / 'airflow.db'}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT task_id, state, try_number FROM task_instance WHERE dag_id = :d"),
                {"d": dag_id},
            )
            return {task: (state, tries) for task, state, tries in rows}
    finally:
        engine.dispose()


def _log(run: subprocess.CompletedProcess[str], task_id: str) -> str:
    """The task's part of `airflow dags test`'s output (it runs tasks in-process, one after
    another, each starting with a "[DAG TEST] starting task_id=..." line)."""
    output = run.stdout + run.stderr
    parts = output.split("[DAG TEST] starting task_id=")
    return "\n".join(part for part in parts[1:] if part.startswith(f"{task_id} "))


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    root = tmp_path_factory.mktemp("failfast")
    _write_agency(root)
    setup = LocalSetup(root / "var")
    setup.prepare()
    agencies = load_all(root / "agencies").agencies
    [agency] = agencies
    seeded = agency.model_copy(update={"datasets": [d for d in agency.datasets
                                                    if d.slug != "gone"]})  # fmt: skip
    dags = root / "dags"
    dags.mkdir()
    for name in ("publish_agencies.py", "usage_metrics.py"):
        shutil.copy(settings.PROJECT_ROOT / "dags" / name, dags / name)
    with local_portal(setup, [seeded]) as portal:
        env = {**setup.env("127.0.0.1", portal.port), "CTDATA_AGENCIES_DIR": str(root / "agencies"),
               "CTDATA_EXPECTATIONS_DIR": str(root / "expectations"),
               "AIRFLOW__CORE__DAGS_FOLDER": str(dags)}  # fmt: skip
        agency_run = _airflow(env, "dags", "test", DAG)
        wrong = json.loads(env["AIRFLOW_CONN_SOCRATA_DEFAULT"]) | {"password": "wrong-password"}
        metrics_env = {**env, "AIRFLOW_CONN_SOCRATA_DEFAULT": json.dumps(wrong)}
        metrics_run = _airflow(metrics_env, "dags", "test", "usage_metrics")
        from socrata_emulator.testing import sodapy_client

        client = sodapy_client(portal, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)
        good_rows = client.get("good-0001", select="count(*) AS n")
    yield setup, agency_run, metrics_run, int(good_rows[0]["n"])


@pytest.mark.parametrize("slug", sorted(FAILURES))
def test_each_error_fails_its_task_on_the_first_try(ran, slug: str) -> None:
    setup, agency_run, _, _ = ran
    step, words = FAILURES[slug]
    task_id = f"{slug}.{step}"
    state, tries = _tries(setup, DAG)[task_id]
    assert (state, tries) == ("failed", 1), f"{task_id}: {state} after {tries} tries"
    log = _log(agency_run, task_id)
    for word in words:
        assert word in log, f"{task_id}'s log lacks {word!r}:\n{log[-3000:]}"


def test_the_other_datasets_are_not_stopped(ran) -> None:
    setup, _, _, good_rows = ran
    tries = _tries(setup, DAG)
    assert tries["preflight"][0] == "success"
    assert tries["good.publish"][0] == "success"
    assert good_rows == 3


def test_a_portal_refusal_fails_usage_metrics_at_once(ran) -> None:
    setup, _, metrics_run, _ = ran
    failed = {t: s for t, s in _tries(setup, "usage_metrics").items() if s[0] == "failed"}
    assert failed, metrics_run.stdout[-3000:]
    assert all(tries == 1 for _, tries in failed.values()), failed
    assert not any(s == "up_for_retry" for s, _ in _tries(setup, "usage_metrics").values())
