"""`ctdata local`: the embedded setup kept running for a person trying things, so that every
command of "Your first agency" (README) works with nothing set by hand.

`ctdata local start` starts (or finds running) the portal stand-in and Airflow's components
(API server, scheduler, DAG processor, triggerer) under CTDATA_VAR_DIR (default `var/`), each in
the background with its log in `var/logs/local/`, and records where they are in
`var/local/services.json`. The other commands find them there: `ctdata plan` and `ctdata
datasets` reach the stand-in when no portal connection is defined, `ctdata review` signs in to
the local Airflow as its reviewer, `ctdata local run` triggers a DAG as its data engineer.
The accounts are the demo's (passwords in the record): this is a sandbox, not a deployment.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ctdata import settings
from ctdata.cli.local_record import LocalRecord
from ctdata.cli.local_record import alive as _alive
from ctdata.cli.output import echo
from ctdata.errors import ConfigurationError

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "local",
        help="run the portal stand-in and Airflow locally, for trying an agency end to end",
        description=__doc__.split("\n\n")[1],
    )
    sub = p.add_subparsers(dest="local_command", required=True, metavar="ACTION")
    start = sub.add_parser("start", help="start (or find) the stand-in and Airflow under var/")
    start.add_argument("--portal-only", action="store_true", help="the stand-in alone")
    start.set_defaults(func=run_start)
    sub.add_parser("status", help="what runs and where").set_defaults(func=run_status)
    sub.add_parser("stop", help="stop what `start` started").set_defaults(func=run_stop)
    sub.add_parser("env", help="print the exports for the local setup").set_defaults(func=run_env)
    run = sub.add_parser("run", help="trigger a DAG now and follow it (until done or a review)")
    run.add_argument("dag_id")
    run.add_argument("--conf", help="the run's conf as JSON, e.g. '{\"dry_run\": true}'")
    run.set_defaults(func=run_dag)
    wait = sub.add_parser("wait", help="follow a DAG's latest run (until done or a review)")
    wait.add_argument("dag_id")
    wait.set_defaults(func=run_wait)
    airflow = sub.add_parser("airflow", help="run an `airflow` command on the local setup")
    airflow.add_argument("args", nargs=argparse.REMAINDER, help="e.g. dags list-import-errors")
    airflow.set_defaults(func=run_airflow)


def _setup() -> Any:
    from ctdata.demo.environment import LocalSetup

    return LocalSetup(settings.current().var_dir)


def airflow_env(record: LocalRecord) -> dict[str, str]:
    """The environment of the local Airflow's components (and of `ctdata local airflow`)."""
    from ctdata.demo.review import reviewer_env
    from ctdata.demo.services import service_env
    from ctdata.specs import load_all

    setup = _setup()
    host, port = record.portal_url.split("://", 1)[1].rsplit(":", 1)
    env = {**setup.env(host, int(port)), **reviewer_env(setup)}
    for conn_id in {a.socrata_conn_id for a in load_all().agencies}:  # every portal id: local
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(record.portal_connection())
    env.pop("AIRFLOW__LOGGING__NAMESPACE_LEVELS", None)  # the command line's, not Airflow's
    api_port = int(record.api_url.rsplit(":", 1)[1]) if record.api_url else 0
    return service_env(env, api_port) if api_port else env


def run_start(args: argparse.Namespace) -> int:
    record = LocalRecord.load_live() or _start_portal()
    echo(f"Portal stand-in: {record.portal_url} (data in {_setup().portal_dir})")
    if not args.portal_only:
        if not (record.api_url and all(_alive(p) for p in record.airflow_pids.values())):
            _start_airflow(record)
        echo(f"Airflow: {record.api_url} (sign in as {record.engineer_user} or "
             f"{record.reviewer_user}; passwords in {LocalRecord.path()})")  # fmt: skip
    echo(f"Logs: {_setup().logs_dir / 'local'}; stop with `ctdata local stop`.")
    return 0


def _start_portal() -> LocalRecord:
    import yaml

    from ctdata.demo.environment import ADMIN, APP_TOKEN, PUBLISHER
    from ctdata.demo.runner import portal_seed
    from ctdata.demo.services import free_port
    from ctdata.specs import load_all

    setup = _setup()
    setup.portal_dir.mkdir(parents=True, exist_ok=True)
    logs = setup.logs_dir / "local"
    logs.mkdir(parents=True, exist_ok=True)
    seed = setup.var_dir / "local" / "portal-seed.yaml"
    seed.parent.mkdir(parents=True, exist_ok=True)
    seed.write_text(yaml.safe_dump(portal_seed(load_all().agencies, setup.portal_dir)))
    port = free_port()
    command = [sys.executable, "-m", "socrata_emulator", "--host", "127.0.0.1", "--port",
               str(port), "--data-dir", str(setup.portal_dir), "--user", ":".join(PUBLISHER),
               "--admin", ":".join(ADMIN), "--app-token", APP_TOKEN, "--seed", str(seed),
               "--analytics-viewer", PUBLISHER[0]]  # fmt: skip
    log = logs / "portal.log"
    process = _detached(command, log, dict(os.environ))
    _wait_for(lambda: "Serving Socrata stand-in on" in log.read_text(), process, log, 60)
    record = LocalRecord(str(setup.var_dir), f"http://127.0.0.1:{port}", process.pid)
    record.save()
    return record


def _start_airflow(record: LocalRecord) -> None:
    from ctdata.demo.review import ENGINEER, REVIEWER
    from ctdata.demo.services import AirflowServices, free_port

    setup = _setup()
    if not (setup.airflow_home / "airflow.db").exists():
        echo("Preparing the local Airflow home (`airflow db migrate`, the pool)...")
        setup.prepare()
    record.api_url = f"http://127.0.0.1:{free_port()}"
    record.accounts = dict([REVIEWER, ENGINEER])
    record.reviewer_user, record.engineer_user = REVIEWER[0], ENGINEER[0]
    env = airflow_env(record)
    logs = setup.logs_dir / "local"
    services = AirflowServices(int(record.api_url.rsplit(":", 1)[1]), logs)
    airflow = str(Path(sys.executable).with_name("airflow"))
    port = str(services.port)
    for name in COMPONENTS:
        extra = ["--port", port, "--host", "127.0.0.1"] if name == "api-server" else []
        process = _detached([airflow, name, *extra], logs / f"{name}.log", env)
        services.processes[name] = process  # type: ignore[assignment]
        record.airflow_pids[name] = process.pid
        if name == "api-server":
            services.wait_healthy(["metadatabase"], timeout=300)
    record.save()
    services.wait_healthy(["scheduler", "dag_processor", "triggerer"], timeout=300)


def _detached(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A process that outlives this command, in its own session, logging to `log`."""
    handle = log.open("ab")
    return subprocess.Popen(
        command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def _wait_for(ready: Any, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise ConfigurationError(f"{process.args[2]} did not start; see {log}:\n"
                                     f"{log.read_text()[-2000:]}")  # fmt: skip
        time.sleep(0.5)


def run_status(args: argparse.Namespace) -> int:
    record = LocalRecord.load()
    if record is None:
        echo("Nothing runs (start it with `ctdata local start`).")
        return 0
    echo(f"portal stand-in  {record.portal_url}  {_state(record.portal_pid)}")
    for name, pid in record.airflow_pids.items():
        echo(f"airflow {name:<13} {record.api_url if name == 'api-server' else ''}  {_state(pid)}")
    return 0


def _state(pid: int) -> str:
    return f"running (pid {pid})" if _alive(pid) else "stopped"


def run_stop(args: argparse.Namespace) -> int:
    record = LocalRecord.load()
    if record is None:
        echo("Nothing to stop.")
        return 0
    pids = [*record.airflow_pids.values(), record.portal_pid]
    for pid in pids:
        if _alive(pid):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        _reap()
        time.sleep(0.5)
    for pid in pids:
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    LocalRecord.path().unlink(missing_ok=True)
    echo(f"Stopped the portal stand-in and {len(record.airflow_pids)} Airflow component(s).")
    return 0


def _reap() -> None:
    """Collect exited children (when `stop` runs in the process that started them)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def _record() -> LocalRecord:
    record = LocalRecord.load_live()
    if record is None or not record.api_url:
        raise ConfigurationError("the local setup is not running: `ctdata local start` first")
    return record


def run_env(args: argparse.Namespace) -> int:
    env = airflow_env(_record())
    for name in sorted(env):
        if name.startswith(("AIRFLOW", "CTDATA_")) and os.environ.get(name) != env[name]:
            echo(f"export {name}={_quoted(env[name])}")
    return 0


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def run_airflow(args: argparse.Namespace) -> int:
    airflow = str(Path(sys.executable).with_name("airflow"))
    sys.stdout.flush()
    return subprocess.run([airflow, *args.args], env=airflow_env(_record())).returncode


def _engineer_api(record: LocalRecord) -> Any:
    from ctdata.cli.airflow_api import AirflowApi

    return AirflowApi(record.api_url, record.engineer_user, record.accounts[record.engineer_user])


def run_dag(args: argparse.Namespace) -> int:
    record = _record()
    api = _engineer_api(record)
    _wait_parsed(api, args.dag_id)
    run_id = api.run_now(args.dag_id, json.loads(args.conf) if args.conf else None)
    echo(f"{args.dag_id}: started run {run_id}")
    return follow(api, args.dag_id, run_id)


def run_wait(args: argparse.Namespace) -> int:
    api = _engineer_api(_record())
    latest = api.latest_run(args.dag_id)
    if latest is None:
        raise ConfigurationError(f"{args.dag_id} has no run yet: `ctdata local run {args.dag_id}`")
    return follow(api, args.dag_id, latest["dag_run_id"])


def _wait_parsed(api: Any, dag_id: str, timeout: float = 300) -> None:
    """Until the DAG processor has parsed the DAG (a new spec takes a parse or two)."""
    from ctdata.cli.airflow_api import AirflowApiError

    deadline = time.monotonic() + timeout
    while True:
        try:
            api.request("GET", f"/dags/{dag_id}/details")
            return
        except AirflowApiError:
            if time.monotonic() > deadline:
                raise ConfigurationError(
                    f"{dag_id} is not among Airflow's DAGs after {timeout:.0f} s: check "
                    "`ctdata lint` and `ctdata local airflow dags list-import-errors`"
                ) from None
            time.sleep(3)


def follow(api: Any, dag_id: str, run_id: str, timeout: float = 3600) -> int:
    """Follow a run until it ends (exit 0 when it succeeded, 1 when it failed) or waits for a
    review (exit 0, saying how to answer)."""
    from ctdata.cli.review import describe_waiting

    deadline = time.monotonic() + timeout
    while (state := api.run(dag_id, run_id)["state"]) not in ("success", "failed"):
        waiting = api.pending_reviews(dag_id, run_id)
        if waiting:
            echo(describe_waiting(waiting))
            echo("The run waits for this review: answer with `ctdata review approve` (or "
                 f"`reject --reason ...`), then `ctdata local wait {dag_id}`.")  # fmt: skip
            return 0
        if time.monotonic() > deadline:
            raise ConfigurationError(f"{dag_id} {run_id} still {state} after {timeout:.0f} s")
        time.sleep(3)
    failed = [t for t in api.task_instances(dag_id, run_id) if t["state"] == "failed"]
    echo(f"{dag_id} {run_id}: {state}")
    for task in failed:
        echo(f"  failed: {task['task_id']}; its log: {api.base_url}/dags/{dag_id}/runs/"
             f"{run_id}/tasks/{task['task_id']}")  # fmt: skip
    return 0 if state == "success" else 1
