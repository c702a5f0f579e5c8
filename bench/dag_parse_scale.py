"""DAG folder parse time at the state's scale: 100 generated agencies x 5 datasets, parsed cold
in a fresh process as the DAG processor pays it (Airflow already imported; ctdata, the spec
models and the 100 YAML files not), beside a one-task DAG file parsed the same way.

Modules are loaded from their compiled bytecode, as in any installed deployment (pip and the
image compile it): one unmeasured parse writes it first, even where PYTHONDONTWRITEBYTECODE is
set in the calling environment (it is on the development machines here).

Run: .venv/bin/python bench/dag_parse_scale.py        (exit 1 when the target is missed)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dag_parse import BASELINE_DAG  # noqa: E402
from support.generated_agencies import write_agencies  # noqa: E402

PROJECT_DAGS = Path(__file__).resolve().parents[1] / "dags"
AGENCIES, DATASETS = 100, 5
TARGET_S = 2.0
ROUNDS = 5

PARSE_ONCE = """
import json, sys, time
import airflow.sdk  # the DAG processor has Airflow loaded before it parses a file
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "dags": len(bag.dag_ids),
                  "tasks": sum(len(d.tasks) for d in bag.dags.values()),
                  "errors": {k: str(v)[:300] for k, v in bag.import_errors.items()}}))
"""


def parse_cold(folder: Path, env: dict[str, str]) -> dict:
    """Median of ROUNDS fresh processes, each parsing the folder once."""
    results = []
    for _ in range(ROUNDS):
        done = subprocess.run(
            [sys.executable, "-c", PARSE_ONCE, str(folder)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert not results[0]["errors"], results[0]["errors"]
    return {**results[0], "seconds": statistics.median(r["seconds"] for r in results)}


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-parse-"))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(work / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "CTDATA_AGENCIES_DIR": str(work / "agencies"),
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    write_agencies(work / "agencies", "scale", AGENCIES, DATASETS)
    baseline_dir = work / "baseline"
    baseline_dir.mkdir()
    (baseline_dir / "baseline.py").write_text(BASELINE_DAG)

    subprocess.run([sys.executable, "-c", PARSE_ONCE, str(PROJECT_DAGS)], env=env, check=True,
                   capture_output=True)  # writes the bytecode; not measured  # fmt: skip
    baseline = parse_cold(baseline_dir, env)
    ours = parse_cold(PROJECT_DAGS, env)
    print(
        f"dags folder with {AGENCIES} agencies x {DATASETS} datasets: {ours['dags']} DAGs, "
        f"{ours['tasks']} tasks, cold parse median {ours['seconds']:.2f} s over {ROUNDS} "
        f"fresh processes (target < {TARGET_S:.1f} s)"
    )
    print(f"baseline one-task DAG file, parsed the same way: {baseline['seconds'] * 1000:.0f} ms")
    print(
        f"ratio: {ours['seconds'] / baseline['seconds']:.0f}x the baseline; "
        f"{ours['seconds'] / ours['dags'] * 1000:.1f} ms per agency DAG"
    )
    if ours["seconds"] >= TARGET_S:
        print(f"TARGET MISSED: {ours['seconds']:.2f} s >= {TARGET_S:.1f} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
