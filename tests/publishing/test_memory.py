"""The publisher's memory stays flat as files grow: the quick variant of bench/publish.py's
peak-RSS measure (section 3), so that a change making memory grow with the rows cannot land
unseen. Two initial loads in child processes, 100,000 and 400,000 rows x 20 columns; what
publishing adds over the imports may not grow like the rows (4x). Measured: 1.5x."""

from __future__ import annotations

import json
import subprocess
import sys

from ctdata import settings

BENCH = settings.PROJECT_ROOT / "bench" / "publish.py"


def test_publisher_memory_does_not_grow_with_the_rows(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--rss-only", "--rows", "100000", "--rss-factor", "4",
         "--workdir", str(tmp_path / "bench")],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-3000:]
    ratios = json.loads(done.stdout.strip().splitlines()[-1])
    assert ratios["own_ratio"] <= 2.5, done.stdout
    assert ratios["rss_ratio"] <= 1.5, done.stdout
