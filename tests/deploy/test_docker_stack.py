"""The compose file for real: images built from Debian packages (no registry is reachable here),
the stack brought up on the host's network with two Celery workers and the demo profile,
`publish_ocme` and `usage_metrics` triggered through the REST API, the portal read back, and
Airflow's records showing tasks on both workers. Follows README, "Production", step by step.

Skipped only where no Docker daemon can be started (scripts/start_dockerd.sh says why).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.deploy.portal_checks import assert_portal_equals, expected_rows, portal_client

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).resolve().parents[2]
PROJECT_NAME = "ctdata-deploy-test"
APPROVAL = "Approved by the deployment test as OPM's reviewer"  # deaths_by_age, first publication
# deploy/host-network.yaml's ports, free ones picked for this run (the host is shared)
HOST_PORTS = ["POSTGRES", "REDIS", "S3", "API", "PORTAL", "SCHEDULER_HEALTH", "WORKER_LOG",
              "TRIGGERER_LOG"]  # fmt: skip
IMAGES = {
    "CTDATA_IMAGE": "ctdata-airflow:test",
    "POSTGRES_IMAGE": "ctdata-postgres:15",
    "REDIS_IMAGE": "ctdata-redis:7",
}


def _script(name: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PROJECT / "scripts" / name), *args],
        capture_output=True, text=True, timeout=timeout, cwd=PROJECT,
        env={**_clean_environ(), **IMAGES},
    )  # fmt: skip


def _clean_environ() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CTDATA"))}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    started = _script("start_dockerd.sh", timeout=600)
    if started.returncode != 0:
        pytest.skip(f"no Docker daemon can start here: {started.stderr.strip()[-500:]}")
    built = _script("build_images.sh", "--ca-bundle", "/etc/ssl/certs/ca-certificates.crt",
                    timeout=1800)  # fmt: skip
    assert built.returncode == 0, built.stderr[-4000:]

    v2 = _script("install_compose_v2.sh", timeout=300)  # optional: Compose v2 checks the file too
    if v2.returncode != 0:
        print(f"Compose v2 unavailable, checking with docker-compose 1.29 only: {v2.stderr[-300:]}")
    project = tmp_path_factory.mktemp("compose")
    env_file = _env_file(project)
    compose = Compose(project, env_file)
    for cli in compose.clis():
        checked = compose.run("config", "-q", cli=cli)
        assert checked.returncode == 0, f"{cli}: {checked.stderr}"
    # A clean slate: a run cut short (machine stopped) may have left containers and volumes.
    compose.run("down", "--timeout", "10", "--volumes", "--remove-orphans", timeout=600)
    try:
        up = compose.run("up", "-d", "--no-build", "--scale", "airflow-worker=2", timeout=900)
        assert up.returncode == 0, up.stderr[-4000:] + compose.logs()
        compose.wait_until_done("ocme-source")
        yield compose
    finally:
        compose.run("down", "--timeout", "30", "--volumes", "--remove-orphans", timeout=600)


def _env_file(project: Path) -> Path:
    """README: `cp .env.example .env && deploy/new-secrets.sh .env`, the demo's portal
    connection (by its port on the host's network), the images this host built."""
    from local_cluster import DEMO_CONNECTION, make_env_file

    from ctdata.demo.services import free_port

    env_file = project / ".env"
    values = make_env_file(env_file)
    values.update({f"HOST_NETWORK_{name}_PORT": str(free_port()) for name in HOST_PORTS})
    connection = json.loads(values[DEMO_CONNECTION])
    connection["port"] = int(values["HOST_NETWORK_PORTAL_PORT"])
    values.update(IMAGES)
    values[DEMO_CONNECTION] = json.dumps(connection)
    values["AIRFLOW__CELERY__WORKER_CONCURRENCY"] = "4"  # a 2-core machine
    values["AIRFLOW__API__WORKERS"] = "1"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return env_file


class Compose:
    """docker-compose 1.29 (Debian's) runs the stack; Compose v2, where installed, checks it."""

    def __init__(self, project: Path, env_file: Path) -> None:
        self.project, self.env_file = project, env_file

    def clis(self) -> list[list[str]]:
        clis = [["docker-compose"]]
        v2 = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if v2.returncode == 0 and "v2" in v2.stdout:
            clis.append(["docker", "compose"])
        return clis

    def run(self, *args: str, cli: list[str] | None = None, timeout: float = 120):
        command = [
            *(cli or ["docker-compose"]),
            "--project-name", PROJECT_NAME, "--project-directory", str(self.project),
            "--env-file", str(self.env_file),
            "-f", str(PROJECT / "docker-compose.yaml"),
            "-f", str(PROJECT / "deploy" / "host-network.yaml"),
            "--profile", "demo", *args,
        ]  # fmt: skip
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=_clean_environ()
        )

    def wait_until_done(self, service: str, timeout_s: float = 300) -> None:
        """Until a one-shot service (the demo's source database) has exited 0."""
        container = self.run("ps", "-q", service).stdout.strip()
        deadline = time.monotonic() + timeout_s
        while True:
            state = subprocess.run(
                ["docker", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", container],
                capture_output=True, text=True,
            ).stdout.split()  # fmt: skip
            if state[:1] == ["exited"]:
                assert state[1] == "0", f"{service} failed:\n{self.logs()}"
                return
            assert time.monotonic() < deadline, f"{service} still {state}"
            time.sleep(2)

    def logs(self) -> str:
        """The Airflow services' recent logs (what a failed assertion needs)."""
        services = ["airflow-init", "airflow-apiserver", "airflow-scheduler",
                    "airflow-dag-processor", "airflow-worker", "portal"]  # fmt: skip
        return self.run("logs", "--no-color", "--tail", "40", *services).stdout[-40000:]


def test_the_stack_publishes_on_two_workers(stack, monkeypatch, tmp_path) -> None:
    from local_cluster import read_env_file
    from rest_api import AirflowApi

    settings = read_env_file(stack.env_file)
    api_url = f"http://127.0.0.1:{settings['HOST_NETWORK_API_PORT']}"
    user, password = settings["AIRFLOW_ADMIN_USERNAME"], settings["AIRFLOW_ADMIN_PASSWORD"]
    api = AirflowApi(api_url, user, password)
    dags = {"publish_ocme", "usage_metrics"}
    try:
        api.wait_for_dags(dags, timeout_s=900)
        runs = {}
        for dag_id in sorted(dags):
            runs[dag_id] = api.run_now(dag_id)
        states = {
            dag_id: api.wait_for_run(dag_id, run, timeout_s=900, approve_reviews=APPROVAL)
            for dag_id, run in runs.items()
        }
    except Exception:
        print(stack.logs())
        raise
    assert states == {"publish_ocme": "success", "usage_metrics": "success"}, stack.logs()

    hosts = {
        ti["hostname"] for dag_id, run in runs.items() for ti in api.task_instances(dag_id, run)
    }
    workers = {h for h in hosts if h.startswith("worker-")}
    assert len(workers) == 2 and hosts == workers, f"tasks ran on {hosts}"

    # The same source and settings here: OCME's records, the cluster's pseudonym key.
    from ctdata.demo.environment import load_ocme_source

    (tmp_path / "var" / "sources").mkdir(parents=True)
    load_ocme_source(tmp_path / "var" / "sources" / "ocme.db")
    monkeypatch.setenv("CTDATA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CTDATA_PSEUDONYM_KEY", settings["CTDATA_PSEUDONYM_KEY"])
    monkeypatch.delenv("CTDATA_AGENCIES_DIR", raising=False)
    client = portal_client(f"http://127.0.0.1:{settings['HOST_NETWORK_PORTAL_PORT']}")
    spec = PROJECT / "include" / "agencies" / "ocme.yaml"
    for slug, dataset_id, row_id in (
        ("deaths_by_town", "ocme-twn7", "cell_id"),
        ("deaths_records", "rybz-nyjw", "record_id"),
    ):
        expected = expected_rows(spec, slug, tmp_path / slug)
        assert_portal_equals(client, dataset_id, expected, row_id)
    usage = list(client.get_all("opmu-sg01"))
    assert {r["dataset_id"] for r in usage} >= {"ocme-twn7", "rybz-nyjw"}


def test_the_image_s_python_is_compiled_ahead(stack) -> None:
    """The services run as user 50000, who cannot write `__pycache__` in the image's folders:
    without bytecode compiled at build, each task's process compiles Airflow, pandas and GX."""
    modules = "airflow, pandas, great_expectations, ctdata.settings"
    check = (f"import importlib.util as u, os, {modules}; "
             f"print('uncompiled:', [m.__name__ for m in ({modules}) "
             "if not os.path.exists(u.cache_from_source(m.__file__))])")  # fmt: skip
    found = subprocess.run(
        ["docker", "run", "--rm", IMAGES["CTDATA_IMAGE"], "python", "-c", check],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr[-2000:]
    # GX logs to stdout on import when Airflow's structlog is configured: read only our line.
    verdict = [line for line in found.stdout.splitlines() if line.startswith("uncompiled:")]
    assert verdict == ["uncompiled: []"], verdict or found.stdout[-2000:]
