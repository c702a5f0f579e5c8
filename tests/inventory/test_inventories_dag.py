"""The yearly `inventories` DAG parses cheaply and runs unattended."""

from __future__ import annotations

from ctdata import settings


def test_inventories_dag_is_yearly_and_retried() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(settings.PROJECT_ROOT / "dags" / "inventories.py"))
    assert bag.import_errors == {}
    dag = bag.dags["inventories"]
    assert dag.timetable.expression == "0 7 15 1 *" and dag.catchup is False
    assert set(dag.task_ids) == {"spreadsheets", "publish"}
    assert all(t.retries >= 1 for t in dag.tasks)
    assert dag.get_task("publish").pool == settings.current().socrata_pool
