"""The compose topology as local processes, configured from the same files a deployment uses:
docker-compose.yaml's common Airflow environment and a .env made from .env.example by
deploy/new-secrets.sh, with the addresses of local servers in place of the service names (the
keys deploy/host-network.yaml overrides). Used by the deployment test and the Celery bench.

Servers: PostgreSQL (scripts/start_postgres.sh; a fresh metadata database per cluster, the
state store's role and database made by airflow-init), a Redis of its own (Debian's
redis-server, installed by scripts/install_redis.sh), moto's
S3 server, the demo's portal stand-in and OCME source database. Airflow: deploy/initialize.py,
then the API server, scheduler, DAG processor and N Celery workers, each in its own process
group so that a test can `kill -9` a whole worker.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rest_api import AirflowApi

from ctdata.demo.services import AirflowServices, free_port, service_env

PROJECT = Path(__file__).resolve().parents[1]
DEPLOY = PROJECT / "deploy"
BIN = Path(sys.executable).parent
# Settings tests need beyond production's: a dead worker's task is noticed in seconds, not
# minutes (Airflow's default task_instance_heartbeat_timeout is 300 s), and retried 5 s later,
# not 2 minutes.
FAST_FAILURE_DETECTION = {
    "CTDATA_RETRY_DELAY_SECONDS": "5",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "3",
}
DEMO_CONNECTION = "AIRFLOW_CONN_SOCRATA_DEFAULT"


class ClusterError(Exception):
    """A component did not start; the message holds the tail of its log."""


def make_env_file(path: Path) -> dict[str, str]:
    """README step: `cp .env.example .env && deploy/new-secrets.sh .env`, then the demo's
    portal connection (the commented line of .env.example) instead of data.ct.gov's."""
    shutil.copy(PROJECT / ".env.example", path)
    subprocess.run([str(DEPLOY / "new-secrets.sh"), str(path)], check=True, capture_output=True)
    values = read_env_file(path)
    demo = next(
        line.removeprefix("# ")
        for line in (PROJECT / ".env.example").read_text().splitlines()
        if line.startswith(f"# {DEMO_CONNECTION}=") and '"portal"' in line
    )
    values[DEMO_CONNECTION] = demo.split("=", 1)[1]
    return values


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value
    return values


def compose_airflow_env(dotenv: dict[str, str]) -> dict[str, str]:
    """docker-compose.yaml's `x-airflow-common.environment`, interpolated from .env."""
    compose = yaml.safe_load((PROJECT / "docker-compose.yaml").read_text())
    environment = compose["x-airflow-common"]["environment"]
    return {k: interpolate(str(v), dotenv) for k, v in environment.items()}


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} (no nesting, as in Compose 1.29)."""

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if variables.get(name):
            return variables[name]
        if op == ":?":
            raise ClusterError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", substitute, value)


@dataclass
class LocalCluster:
    root: Path
    workers: int = 2
    portal_latency_ms: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    services: AirflowServices | None = None
    api: AirflowApi | None = None
    portal_url: str = ""
    s3_port: int = 0
    redis_port: int = 0
    portal_port: int = 0

    # -- start -------------------------------------------------------------------------------

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        dotenv = make_env_file(self.root / ".env")
        self.env = self._environment(dotenv)
        api_port = int(self.env["AIRFLOW__API__PORT"])
        self.services = AirflowServices(api_port, self.root / "logs")
        self.services.logs_dir.mkdir(parents=True, exist_ok=True)
        self._start_servers()
        self._run(["python", str(DEPLOY / "initialize.py")], "airflow-init", timeout_s=300)
        self._spawn("api-server", ["airflow", "api-server", "-H", "127.0.0.1", "-p", str(api_port)])
        self.services.wait_healthy(["metadatabase"])
        self._spawn("scheduler", ["airflow", "scheduler"])
        self._spawn("dag-processor", ["airflow", "dag-processor"])
        self._spawn("triggerer", ["airflow", "triggerer"])  # deferred tasks: OPM's reviews
        for name in self.worker_names:
            self.start_worker(name)
        self.services.wait_healthy(["scheduler", "dag_processor", "triggerer"])
        user, password = dotenv["AIRFLOW_ADMIN_USERNAME"], dotenv["AIRFLOW_ADMIN_PASSWORD"]
        self.api = AirflowApi(self.services.api_url, user, password)
        for name in self.worker_names:
            self._wait_log(name, " ready.", timeout_s=180)

    @property
    def worker_names(self) -> list[str]:
        return [f"worker-{chr(ord('a') + i)}" for i in range(self.workers)]

    def start_worker(self, name: str) -> None:
        command = ["airflow", "celery", "worker", "--celery-hostname", name, "--skip-serve-logs"]
        self._spawn(name, command, CTDATA_WORKER_NAME=name)

    def _environment(self, dotenv: dict[str, str]) -> dict[str, str]:
        server = _server_url()
        metadata_db = f"airflow_{uuid.uuid4().hex[:10]}"
        _create_database(server, metadata_db)
        metadata = _with_database(server, metadata_db)
        # As in docker-compose.yaml: role and database of its own, created by airflow-init.
        state = _with_database(
            server, f"ctdata_state_{uuid.uuid4().hex[:10]}",
            username="ctdata_state", password=dotenv["CTDATA_STATE_DB_PASSWORD"],
        )  # fmt: skip
        _start_script("install_redis.sh")
        self.redis_port = free_port()
        redis = f"redis://127.0.0.1:{self.redis_port}/0"
        self.s3_port, self.portal_port = free_port(), free_port()
        connection = json.loads(dotenv[DEMO_CONNECTION])
        connection.update(host="127.0.0.1", port=self.portal_port)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CTDATA"))},
            **dotenv,
            **compose_airflow_env(dotenv),
            # The keys deploy/host-network.yaml overrides, pointed at the local servers.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata}",
            "AIRFLOW__CELERY__BROKER_URL": redis,
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
            "CTDATA_STATE_URL": state,
            "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{self.s3_port}",
            DEMO_CONNECTION: json.dumps(connection),
            # What the image sets (Dockerfile ENV), with this checkout's folders.
            "AIRFLOW_HOME": str(self.root / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
            "CTDATA_VAR_DIR": str(self.root / "var"),
            "CTDATA_REPORTS_DIR": str(self.root / "reports"),
            "GX_ANALYTICS_ENABLED": "False",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            # Workers share this host's name: each records its own (deploy/worker_name.py).
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "worker_name.hostname",
            "PYTHONPATH": str(DEPLOY),
            "AIRFLOW__API__WORKERS": "1",
            **FAST_FAILURE_DETECTION,
            **self.extra_env,
        }
        # API server address and the secrets every component shares (the .env's, kept).
        return service_env(env, free_port())

    def _start_servers(self) -> None:
        # A broker of its own: clusters side by side (a test, a bench) must not share queues.
        redis = ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"]
        self._spawn("redis", [*redis, "--save", "", "--appendonly", "no"])
        s3 = ["moto_server", "-H", "127.0.0.1", "-p", str(self.s3_port)]
        self._spawn("s3", s3)
        self._wait_http(f"http://127.0.0.1:{self.s3_port}/moto-api/data.json", "s3", timeout_s=60)
        self._run(
            ["python", str(DEPLOY / "demo_ocme_source.py"), str(self.root / "var/sources/ocme.db")],
            "ocme-source",
            timeout_s=120,
        )
        portal = ["python", str(DEPLOY / "demo_portal.py"), "--port", str(self.portal_port)]
        portal += ["--data-dir", str(self.root / "portal")]
        portal += ["--latency-ms", str(self.portal_latency_ms)]
        self._spawn("portal", portal)
        self.portal_url = f"http://127.0.0.1:{self.portal_port}"
        self._wait_http(f"{self.portal_url}/api/catalog/v1", "portal", timeout_s=60)

    # -- processes ---------------------------------------------------------------------------

    def _command(self, command: list[str]) -> list[str]:
        head = BIN / command[0]
        return [str(head) if head.exists() else command[0], *command[1:]]

    def _spawn(self, name: str, command: list[str], **env: str) -> None:
        """Start a component in its own process group (see AirflowServices.start)."""
        assert self.services is not None
        self.services.start(name, self._command(command), {**self.env, **env})

    def _run(self, command: list[str], name: str, timeout_s: float) -> None:
        log = self.root / "logs" / f"{name}.log"
        with log.open("ab") as handle:
            done = subprocess.run(
                self._command(command), env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                timeout=timeout_s, cwd=self.root,
            )  # fmt: skip
        if done.returncode != 0:
            raise ClusterError(f"{name} failed:\n{self.log_tail(name)}")

    def log_tail(self, name: str, chars: int = 4000) -> str:
        path = self.root / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"

    def _wait_http(self, url: str, name: str, timeout_s: float) -> None:
        import requests

        deadline = time.monotonic() + timeout_s
        while True:
            self._check_alive(name)
            try:
                if requests.get(url, timeout=5).status_code < 500:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise ClusterError(f"{name} not answering {url}:\n{self.log_tail(name)}")
            time.sleep(1)

    def _wait_log(self, name: str, text: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.log_tail(name, chars=10**6):
            self._check_alive(name)
            if time.monotonic() > deadline:
                raise ClusterError(f"{name} not ready:\n{self.log_tail(name)}")
            time.sleep(1)

    def _check_alive(self, name: str) -> None:
        process = self.services.processes.get(name) if self.services else None
        if process is not None and process.poll() is not None:
            raise ClusterError(f"{name} exited ({process.returncode}):\n{self.log_tail(name)}")

    def kill(self, name: str) -> None:
        """`kill -9` the component's whole process group (a worker and its task processes)."""
        assert self.services is not None
        process = self.services.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        if self.services is not None:
            self.services.stop()

    def __enter__(self) -> LocalCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _start_script(name: str) -> str:
    """Run one of scripts/; its last line of output (a server's URL), if any."""
    done = subprocess.run(
        [str(PROJECT / "scripts" / name)], capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise ClusterError(f"scripts/{name} failed:\n{done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def _server_url() -> str:
    return os.environ.get("CTDATA_TEST_POSTGRES_URL") or _start_script("start_postgres.sh")


def _with_database(url: str, database: str, **credentials: str) -> str:
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url).set(database=database, **credentials)
    return parsed.render_as_string(hide_password=False)


def _create_database(server: str, name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
