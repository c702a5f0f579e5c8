"""The stand-in is its own package: it runs, and reports its errors, without the pipeline."""

from __future__ import annotations

import subprocess
import sys

import socrata_emulator

PROBE = """
import pkgutil, sys
import socrata_emulator
for module in pkgutil.iter_modules(socrata_emulator.__path__, "socrata_emulator."):
    if module.name != "socrata_emulator.__main__":
        __import__(module.name)
print(sorted(m for m in sys.modules if m.split(".")[0] == "ctdata"))
"""


def test_no_module_of_the_stand_in_imports_the_pipeline():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert len(list(socrata_emulator.__path__)) == 1


def test_python_m_socrata_emulator_reports_a_bad_seed_in_words(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "socrata_emulator",
            "seed",
            str(tmp_path / "missing.yaml"),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: Cannot read seed file") and "missing.yaml" in done.stderr
    assert "Traceback" not in done.stderr
