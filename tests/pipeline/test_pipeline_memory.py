"""A dataset's publication takes memory by the batch, not by the row: the quick variant of
bench/pipeline_memory.py (the real steps through a DatasetRun against the stand-in, a first
publish and a 1% refresh, each in a fresh child process) at 20,000 and 80,000 rows in batches
of 5,000, so that a step loading the whole table again cannot land unseen. Judged on the slope
of peak RSS over rows (the imports dominate at these sizes): 1,260 MB per million rows before
the steps streamed, 310-470 after; the bound is SLOPE_MB_PER_MROW. Memory only: time is the full bench's."""

from __future__ import annotations

import json
import subprocess
import sys

from ctdata import settings

BENCH = settings.PROJECT_ROOT / "bench" / "pipeline_memory.py"


def test_a_publication_does_not_grow_with_the_rows(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--workdir", str(tmp_path / "bench")],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-3000:] + done.stdout[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["mb_per_mrow"] <= 700, done.stdout  # SLOPE_MB_PER_MROW
    assert done.returncode == 0, done.stdout
