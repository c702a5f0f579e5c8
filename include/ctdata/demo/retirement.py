"""The demo's retirement act: OPM retires its towns-and-counties list by the state's process.

The project's own specs do not retire anything, so the act writes a copy of OPM's spec with a
`retire:` block to var/demo-retirement/agencies and runs `publish_opm` on it through `airflow
dags test` twice, with the run dated on the notice day and 30 days later, as the scheduler would
on those days. The portal is read back after each run.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pendulum
import yaml

from ctdata import settings
from ctdata.clock import STATE_TIMEZONE_NAME, state_date
from ctdata.demo.environment import LocalSetup
from ctdata.specs.models import NOTICE_DAYS

AGENCY, SLUG = "opm", "towns"
RETIREMENT = {
    "reason": "outdated",
    "note": (
        "Connecticut's eight counties are no longer its county-equivalent geography for federal "
        "statistics: since 2022 the nine planning regions are."
    ),
}


@dataclass(frozen=True)
class Step:
    label: str
    day: dt.date
    ok: bool
    log: Path
    seconds: float


def retirement_spec(setup: LocalSetup, notice: dt.date) -> Path:
    """OPM's spec with a retire block on its towns list, in a folder of its own."""
    raw = yaml.safe_load((settings.current().agencies_dir / f"{AGENCY}.yaml").read_text())
    dataset = next(d for d in raw["datasets"] if d["slug"] == SLUG)
    dataset["retire"] = {**RETIREMENT, "notice_date": notice.isoformat()}
    folder = setup.var_dir / "demo-retirement" / "agencies"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{AGENCY}.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return folder


def run_on(setup: LocalSetup, env: dict[str, str], dag_id: str, day: dt.date) -> tuple[bool, Path]:
    """`airflow dags test DAG_ID` for a run dated `day` (midday in Connecticut; the minutes and
    seconds of now keep reruns of the demo apart)."""
    now = pendulum.now("UTC")
    when = pendulum.datetime(day.year, day.month, day.day, 12, now.minute, now.second,
                             tz=STATE_TIMEZONE_NAME)  # fmt: skip
    log = setup.logs_dir / f"{dag_id}-{day.isoformat()}.log"
    airflow = str(Path(sys.executable).with_name("airflow"))
    with log.open("w") as handle:
        done = subprocess.run(
            [airflow, "dags", "test", dag_id, when.isoformat()],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    return done.returncode == 0, log


def run_retirement(setup: LocalSetup, env: dict[str, str], client: Any) -> bool:
    """Notice day, then 30 days later; prints what the portal shows after each."""
    from ctdata.specs import load_agency
    from ctdata.specs.registers import load_registers_config

    notice = state_date()
    folder = retirement_spec(setup, notice)
    dataset = load_agency(folder / f"{AGENCY}.yaml").dataset(SLUG)
    register = load_registers_config().retired_assets.portal_id
    print(f"Retirement of {AGENCY}/{SLUG} ({dataset.portal_id}), by the state's process, from "
          f"{folder / f'{AGENCY}.yaml'} (OPM's spec with a retire: block):")  # fmt: skip
    run_env = {**env, "CTDATA_AGENCIES_DIR": str(folder)}
    days = (("notice day", notice), (f"{NOTICE_DAYS} days on", notice + dt.timedelta(NOTICE_DAYS)))
    for label, day in days:
        started = time.monotonic()
        ok, log = run_on(setup, run_env, f"publish_{AGENCY}", day)
        status = "ok" if ok else f"FAILED, see {log}"
        print(f"  airflow dags test publish_{AGENCY} ({label}, {day}): {status} "
              f"({time.monotonic() - started:.0f} s)")  # fmt: skip
        if not ok:
            return False
        print("    " + describe(client, dataset.portal_id, register))
    return True


def describe(client: Any, dataset_id: str, register_id: str) -> str:
    """The dataset's title, tags and visibility, and its row in the retired-assets register."""
    view = client.get_metadata(dataset_id)
    public = any("public" in (g.get("flags") or []) for g in view.get("grants") or [])
    rows = client.get(register_id, where=f"row_id = '{dataset_id}'")
    row = rows[0] if rows else {}
    retired = (row.get("retired_date") or "")[:10]
    register = (
        f"retired assets: {row.get('status')}"
        + (f" on {retired}" if retired else f", removal {(row.get('removal_date') or '')[:10]}")
        if row
        else "retired assets: no row"
    )
    tags = ", ".join(view.get("tags") or [])
    return f"title {view['name']!r}; tags {tags}; {'public' if public else 'private'}; {register}"
