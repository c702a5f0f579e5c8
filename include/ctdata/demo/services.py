"""Airflow's own components as local processes (API server, scheduler, DAG processor, and
optionally more), for tests of unattended runs and for the embedded setup.

The same programs a deployment runs, started with the setup's environment: nothing is faked, so
what passes here is what the scheduler does with nobody watching.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

DEFAULT_COMPONENTS = ("api-server", "scheduler", "dag-processor")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AirflowServices:
    """Running Airflow components; `api_url` is the API server's base URL."""

    port: int
    logs_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self, parts: Sequence[str]) -> bool:
        """Do the API server's health checks report these parts healthy?"""
        try:
            answer = requests.get(f"{self.api_url}/api/v2/monitor/health", timeout=5)
        except requests.RequestException:
            return False
        if answer.status_code != 200:
            return False
        body = answer.json()
        return all(body.get(part, {}).get("status") == "healthy" for part in parts)

    def wait_healthy(self, parts: Sequence[str], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            if self.healthy(parts):
                return
            time.sleep(2)
        raise TimeoutError(f"Airflow did not report healthy within {timeout:.0f} s; logs in "
                           f"{self.logs_dir}")  # fmt: skip

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        """Start one component in its own process group, logging to <logs_dir>/<name>.log."""
        log = (self.logs_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = (self.logs_dir / f"{name}.log").read_text()[-3000:]
                raise RuntimeError(f"airflow {name} exited ({process.returncode}):\n{log}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _runs(part: str, components: Sequence[str]) -> bool:
    return part.replace("_", "-") in components


def service_env(env: dict[str, str], port: int) -> dict[str, str]:
    """Settings every component must agree on: where the API server is and the shared secret
    that signs task tokens."""
    return {
        **env,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": env.get("AIRFLOW__API_AUTH__JWT_SECRET")
        or os.urandom(16).hex(),
        "AIRFLOW__API__SECRET_KEY": env.get("AIRFLOW__API__SECRET_KEY") or os.urandom(16).hex(),
    }


@contextmanager
def airflow_services(
    env: dict[str, str],
    logs_dir: Path,
    components: Sequence[str] = DEFAULT_COMPONENTS,
    port: int | None = None,
) -> Iterator[AirflowServices]:
    """Start the components (each in its own process group), wait until healthy, stop on exit."""
    port = port or free_port()
    logs_dir.mkdir(parents=True, exist_ok=True)
    env = service_env(env, port)
    airflow = str(Path(sys.executable).with_name("airflow"))
    services = AirflowServices(port, logs_dir)
    try:
        # The API server first: tasks report to it, and a task started before it answers fails.
        services.start("api-server", [airflow, "api-server", "--port", str(port), "--host",
                                      "127.0.0.1"], env)  # fmt: skip
        services.wait_healthy(["metadatabase"])
        for name in components:
            if name != "api-server":
                services.start(name.replace(" ", "-"), [airflow, *name.split()], env)
        services.wait_healthy([p for p in ("scheduler", "dag_processor") if _runs(p, components)])
        yield services
    finally:
        services.stop()
