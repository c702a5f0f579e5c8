"""README "Your first agency", followed to the letter: its files are written and its commands
run in the order the section gives them (the spec, the data, the suite; lint, the local
stand-in and Airflow, plan, a run held for review, the review answered from the command line,
the refreshed data, a second run), then the portal is checked: the dataset is public and holds
the refreshed rows. Nothing else is set: the commands find the stand-in and Airflow themselves.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from ctdata import settings

pytestmark = pytest.mark.e2e

BEGIN, END = "<!-- first-agency:begin -->", "<!-- first-agency:end -->"
BLOCK = re.compile(r"```(\w+)([^\n]*)\n(.*?)```", re.DOTALL)
BIN = Path(sys.executable).parent


def walk_through() -> list[tuple[str, str, str]]:
    """The section's steps in order: ("file", path, text) or ("run", command, "")."""
    readme = (settings.PROJECT_ROOT / "README.md").read_text()
    section = readme[readme.index(BEGIN) : readme.index(END)]
    steps: list[tuple[str, str, str]] = []
    for lang, info, body in BLOCK.findall(section):
        if info.strip():
            steps.append(("file", info.strip(), body))
        elif lang == "sh":
            commands = [line.strip() for line in body.splitlines()]
            steps += [("run", c, "") for c in commands if c and not c.startswith("#")]
    return steps


def test_the_walk_through_has_files_and_commands() -> None:
    steps = walk_through()
    files = [path for kind, path, _ in steps if kind == "file"]
    assert files[:3] == ["include/agencies/deep.yaml", "include/agencies/deep_state_parks.csv",
                         "expectations/deep_state_parks.json"]  # fmt: skip
    commands = [command for kind, command, _ in steps if kind == "run"]
    assert all(c.startswith("ctdata ") for c in commands), commands
    assert "ctdata review approve deep.state_parks" in " ".join(commands)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("first-agency")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        CTDATA_VAR_DIR=str(root / "var"),
        CTDATA_AGENCIES_DIR=str(root / "include" / "agencies"),
        CTDATA_EXPECTATIONS_DIR=str(root / "expectations"),
    )
    yield root, env
    subprocess.run(["ctdata", "local", "stop"], env=env, cwd=root, capture_output=True)


def _run(command: str, root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(shlex.split(command), env=env, cwd=root, capture_output=True,
                          text=True, timeout=1800)  # fmt: skip
    assert done.returncode == 0, (
        f"{command}: exit {done.returncode}\n{done.stdout}\n" + (done.stderr[-4000:])
    )
    return done


def _portal_rows(root: Path, env: dict[str, str]) -> tuple[str, list[dict]]:
    [listed] = json.loads(_run("ctdata datasets deep --json", root, env).stdout)
    record = json.loads((root / "var" / "local" / "services.json").read_text())
    url = f"{record['portal_url']}/resource/{listed['portal_id']}.json"
    answer = requests.get(url, params={"$order": "park"}, timeout=30)  # anonymous: public
    answer.raise_for_status()
    return listed["review"], answer.json()


def test_a_first_agency_is_published_reviewed_and_refreshed(project) -> None:
    root, env = project
    outputs: dict[str, list[str]] = {}
    for kind, what, text in walk_through():
        if kind == "file":
            path = root / what
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            continue
        if what == "ctdata local stop":
            review, rows = _portal_rows(root, env)  # before the stand-in stops
        outputs.setdefault(what, []).append(_run(what, root, env).stdout)
    assert "no problems" in outputs["ctdata lint include/agencies/deep.yaml"][0]
    first_plan, refresh_plan = outputs["ctdata plan deep"]
    assert "would be created" in first_plan and "4 created" in first_plan
    assert "1 created, 1 changed, 0 deleted, 3 unchanged" in refresh_plan
    first_run, second_run = outputs["ctdata local run publish_deep"]
    assert "The run waits for this review" in first_run, first_run
    assert "deep.state_parks" in outputs["ctdata review"][0]
    assert ": success" in outputs["ctdata local wait publish_deep"][0]
    assert ": success" in second_run and "waits for this review" not in second_run
    assert review.startswith("approved by opm-reviewer")
    assert [r["park"] for r in rows][:2] == ["Bluff Point State Park", "Gillette Castle State Park"]
    assert len(rows) == 5 and rows[1]["acres"] == "185"
