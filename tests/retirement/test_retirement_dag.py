"""A `retire:` block turns the dataset's task group into the retirement process, run daily."""

from __future__ import annotations

from pathlib import Path

import yaml

from ctdata import settings
from ctdata.airflow.dag_factory import register_agency_dags


def _opm_with_retirement(folder: Path) -> None:
    raw = yaml.safe_load((settings.current().agencies_dir / "opm.yaml").read_text())
    raw["datasets"][0]["retire"] = {
        "reason": "outdated",
        "notice_date": "2025-03-01",
        "note": "Counties are no longer the state's county-equivalent geography.",
    }
    (folder / "opm.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def test_retiring_dataset_runs_the_process_daily_instead_of_publishing(tmp_path: Path) -> None:
    _opm_with_retirement(tmp_path)
    dags: dict = {}
    register_agency_dags(dags, tmp_path)
    dag = dags["publish_opm"]
    assert {t.task_id for t in dag.tasks if t.task_id.startswith("towns.")} == {"towns.retire"}
    assert dag.get_task("towns.retire").retries >= 1
    assert dag.timetable.expression == "0 6 * * *"  # "As needed" alone would never run it

    dags = {}
    register_agency_dags(
        dags, settings.current().agencies_dir
    )  # without the block: publishing as usual
    assert "towns.extract" in dags["publish_opm"].task_ids
    assert "towns.retire" not in dags["publish_opm"].task_ids
