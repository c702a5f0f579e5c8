"""Every DAG imports cleanly, is configured for unattended runs, and parses cheaply."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ctdata import settings

DAGS = settings.PROJECT_ROOT / "dags"
PIPELINE_ORDER = ["extract", "validate_source", "validate_publishable", "publish", "sync_metadata"]


def _dagbag(agencies_dir: Path | None = None, monkeypatch: pytest.MonkeyPatch | None = None):
    from airflow.dag_processing.dagbag import DagBag

    if agencies_dir is not None and monkeypatch is not None:
        monkeypatch.setenv("CTDATA_AGENCIES_DIR", str(agencies_dir))
    return DagBag(dag_folder=str(DAGS))


@pytest.fixture(scope="module")
def dagbag():
    return _dagbag()


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert {"publish_ocme", "publish_opm"} <= set(dagbag.dag_ids)


@pytest.mark.parametrize("dag_id", ["publish_ocme", "publish_opm"])
def test_agency_dag_runs_unattended(dagbag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert "ctdata" in dag.tags and f"agency:{dag_id.removeprefix('publish_')}" in dag.tags
    assert "/d/" in dag.doc_md
    for task in dag.tasks:
        assert task.retries >= 1 and task.retry_exponential_backoff >= 2  # doubling delays
        assert task.owner.endswith("-data-team")


def test_each_dataset_runs_the_pipeline_in_order(dagbag) -> None:
    dag = dagbag.dags["publish_ocme"]
    for slug, middle in (
        ("deaths_by_town", "aggregate_and_suppress"),
        ("deaths_records", "prepare_records"),
    ):
        chain = [f"{slug}.{name}" for name in [*PIPELINE_ORDER[:2], middle, *PIPELINE_ORDER[2:]]]
        for upstream, downstream in zip(chain, chain[1:], strict=False):
            assert downstream in dag.get_task(upstream).get_flat_relative_ids(upstream=False), (
                f"{downstream} should run after {upstream}"
            )


def test_bad_dataset_is_an_import_error_and_stops_only_itself(tmp_path: Path, monkeypatch) -> None:
    good = yaml.safe_load((settings.current().agencies_dir / "opm.yaml").read_text())
    (tmp_path / "opm.yaml").write_text(yaml.safe_dump(good))
    bad = yaml.safe_load((settings.current().agencies_dir / "ocme.yaml").read_text())
    bad["datasets"][0]["metadata"]["update_frequency"] = "Sometimes"
    (tmp_path / "ocme.yaml").write_text(yaml.safe_dump(bad))
    broken_agency = dict(good, code="broken", data_officer={"name": "x", "email": "nope"})
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken_agency))

    dagbag = _dagbag(tmp_path, monkeypatch)

    assert "publish_opm" in dagbag.dag_ids
    assert "publish_broken" not in dagbag.dag_ids, "an invalid agency-level field: no DAG"
    # The typo costs its dataset only: the agency's other datasets keep their tasks, and the
    # broken one is a task that fails at once with the reason (alerting like any failure).
    ocme = dagbag.dags["publish_ocme"]
    assert "deaths_by_town.spec_error" in ocme.task_ids
    assert "deaths_records.publish" in ocme.task_ids
    assert not any(t.startswith("deaths_by_town.extract") for t in ocme.task_ids)
    [message] = dagbag.import_errors.values()  # still shown on the DAG file, naming each
    assert "ocme.yaml" in message and "broken.yaml" in message
    assert "datasets[0] (deaths_by_town).metadata.update_frequency" in message
    assert "'Sometimes' is not allowed" in message


def test_preflight_runs_before_any_dataset(dagbag) -> None:
    dag = dagbag.dags["publish_ocme"]
    after_preflight = dag.get_task("preflight").get_flat_relative_ids(upstream=False)
    for task in dag.tasks:
        if task.task_id != "preflight":
            assert task.task_id in after_preflight, f"{task.task_id} may start before preflight"


def test_dag_file_imports_no_heavy_libraries() -> None:
    """Parsing must stay cheap: pandas, GX, SciPy and the portal client load only in tasks."""
    code = (
        "import runpy, sys; runpy.run_path(sys.argv[1]); "
        "heavy = [m for m in ('pandas', 'great_expectations', 'scipy', 'sodapy', 'pyarrow') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    for dag_file in DAGS.glob("*.py"):
        out = subprocess.run(
            [sys.executable, "-c", code, str(dag_file)], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "", (
            f"{dag_file.name} imports {out.stdout.strip()} at parse time"
        )
