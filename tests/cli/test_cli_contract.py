"""The command line as scripts use it: results alone on stdout (`--json` is JSON and nothing
else), logs on stderr, the exit codes `ctdata --help` documents, and errors that say what to do
instead of a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctdata import settings
from ctdata.demo.environment import PUBLISHER
from ctdata.demo.runner import portal_seed
from ctdata.specs import load_all

CTDATA = str(Path(sys.executable).with_name("ctdata"))


def _ctdata(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CTDATA, *args], capture_output=True, text=True, env=env, timeout=600)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    return {**env, "CTDATA_VAR_DIR": str(tmp_path / "var"),
            "AIRFLOW_HOME": str(tmp_path / "airflow"), **extra}  # fmt: skip


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    from socrata_emulator.testing import run_emulator

    opm = [a for a in load_all().agencies if a.code == "opm"]
    data = tmp_path_factory.mktemp("portal")
    with run_emulator(data, users=[":".join(PUBLISHER)], seed=portal_seed(opm)) as emulator:
        yield emulator


def test_plan_json_is_json_alone_on_stdout(tmp_path, portal) -> None:
    connection = {"conn_type": "socrata", "host": "127.0.0.1", "port": portal.port,
                  "schema": "http", "login": PUBLISHER[0], "password": PUBLISHER[1]}  # fmt: skip
    env = _env(tmp_path, AIRFLOW_CONN_SOCRATA_DEFAULT=json.dumps(connection))
    done = _ctdata("plan", "opm", "towns", "--json", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    plans = json.loads(done.stdout)  # what `| python3 -m json.tool` needs
    assert [p["slug"] for p in plans] == ["towns"]
    assert "Suite opm_towns_publishable" in done.stderr  # the logs are on stderr ...
    for noise in ("Skipping registering function", "ephemeral docs site"):
        assert noise not in done.stderr + done.stdout  # ... without GX's chatter


def test_a_missing_portal_connection_says_how_to_get_one(tmp_path) -> None:
    done = _ctdata("plan", "opm", env=_env(tmp_path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert "error: the portal connection 'socrata_default' is not defined" in done.stderr
    assert "AIRFLOW_CONN_SOCRATA_DEFAULT" in done.stderr and "ctdata local start" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        (["plan", "nosuch"], 2, "error: no agency spec"),
        (["no-such-command"], 2, "invalid choice"),
        (["review", "approve"], 2, "the following arguments are required"),
    ],
)
def test_exit_codes_are_as_documented(tmp_path, args, code, stderr) -> None:
    done = _ctdata(*args, env=_env(tmp_path))
    assert done.returncode == code, done.stderr
    assert stderr in done.stderr


def test_lint_exits_1_on_problems_with_one_line_each(tmp_path) -> None:
    spec = (settings.current().agencies_dir / "opm.yaml").read_text()
    (tmp_path / "opm.yaml").write_text(spec.replace("row_identifier:", "row_identifer:", 1))
    done = _ctdata("lint", str(tmp_path / "opm.yaml"), env=_env(tmp_path))
    assert done.returncode == 1
    assert "did you mean 'row_identifier'?" in done.stdout
    ok = _ctdata("lint", str(settings.current().agencies_dir / "opm.yaml"), env=_env(tmp_path))
    assert ok.returncode == 0 and "no problems" in ok.stdout
