"""How long the DAG processor takes to parse the dags folder, against a one-task DAG file
parsed the same way in the same process (the baseline), so the ratio survives noisy machines.

Run: .venv/bin/python bench/dag_parse.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

BASELINE_DAG = """
import datetime as dt
from airflow.sdk import DAG, task

with DAG("baseline", schedule=None, start_date=dt.datetime(2024, 1, 1)):
    @task
    def hello() -> None:
        print("hello")
    hello()
"""
ROUNDS = 7


def parse_seconds(folder: Path) -> tuple[float, int]:
    from airflow.dag_processing.dagbag import DagBag

    timings, dags = [], 0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        bag = DagBag(dag_folder=str(folder))
        timings.append(time.perf_counter() - started)
        assert not bag.import_errors, bag.import_errors
        dags = len(bag.dag_ids)
    return statistics.median(timings), dags


def main() -> None:
    import airflow.sdk  # noqa: F401  (shared import cost, paid before timing either side)

    project_dags = Path(__file__).resolve().parents[1] / "dags"
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "baseline.py").write_text(BASELINE_DAG)
        parse_seconds(Path(folder))  # warm-up
        baseline, _ = parse_seconds(Path(folder))
    ours, dags = parse_seconds(project_dags)
    print(f"dags folder: {dags} DAGs, median parse {ours * 1000:.0f} ms over {ROUNDS} rounds")
    print(f"baseline one-task DAG file: median parse {baseline * 1000:.0f} ms")
    print(
        f"ratio (dags folder / baseline): {ours / baseline:.1f}x; per DAG: {ours / baseline / dags:.1f}x"
    )


if __name__ == "__main__":
    main()
