"""Run the stand-in as a real subprocess for tests and the demo, and get sodapy clients for it.

A subprocess (not a thread) so that `stop()`/`restart()` really kill and restart the server
and state has to survive on disk, exactly as it would for a deployed portal.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from socrata_emulator.cli import READY_PREFIX
from socrata_emulator.seed import seed_data_dir

__all__ = ["EmulatorHandle", "run_emulator", "seed_data_dir", "sodapy_client"]

START_TIMEOUT_S = 30.0


@dataclass
class EmulatorHandle:
    """A running stand-in: `.url`, `.host` (sodapy's domain), `.port`, `.process`."""

    data_dir: Path
    args: list[str]
    port: int = 0
    process: subprocess.Popen[str] | None = None
    users: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    _log: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [sys.executable, "-m", "socrata_emulator", "--port", str(self.port), *self.args]
        self._log = open(self.data_dir / "emulator.log", "a")  # noqa: SIM115
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=self._log, text=True, env=env
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(self.process.stdout, lines), daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.stop()
                log = (self.data_dir / "emulator.log").read_text()[-2000:]
                raise RuntimeError(f"The Socrata stand-in did not start: {' '.join(cmd)}\n{log}")
            if line.startswith(READY_PREFIX):
                self.port = int(line.strip().rsplit(":", 1)[1])
                return

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        """Stop and start again on the same port and data dir."""
        self.stop()
        self.start()


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _pairs(items: Iterable[str] | Iterable[tuple[str, str]]) -> list[str]:
    return [i if isinstance(i, str) else f"{i[0]}:{i[1]}" for i in items]


@contextmanager
def run_emulator(
    data_dir: str | Path,
    *,
    users: Iterable[str] | Iterable[tuple[str, str]] = (),
    admins: Iterable[str] | Iterable[tuple[str, str]] = (),
    app_tokens: Iterable[str] = (),
    seed: dict[str, Any] | str | Path | None = None,
    fault_rate: float = 0.0,
    fault_seed: int = 0,
    latency_ms: int = 0,
    domain: str = "data.ct.gov",
    analytics_viewers: Iterable[str] = (),
    stale_reads: float = 0.0,
) -> Iterator[EmulatorHandle]:
    """Start the stand-in on a free port; users/admins are "EMAIL:PASSWORD" (or pairs).

    The private site analytics dataset is readable by the admins and by `analytics_viewers`."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if seed is not None:
        seed_data_dir(data_dir, seed)
    users_l, admins_l = _pairs(users), _pairs(admins)
    args = ["--data-dir", str(data_dir), "--domain", domain]
    args += [a for u in users_l for a in ("--user", u)]
    args += [a for u in admins_l for a in ("--admin", u)]
    args += [a for t in app_tokens for a in ("--app-token", t)]
    args += ["--fault-rate", str(fault_rate), "--fault-seed", str(fault_seed)]
    args += ["--latency-ms", str(latency_ms)]
    args += [a for v in analytics_viewers for a in ("--analytics-viewer", v)]
    if stale_reads:
        args += ["--stale-reads", str(stale_reads)]
    handle = EmulatorHandle(data_dir, args, users=tuple(users_l), admins=tuple(admins_l))
    handle.start()
    try:
        yield handle
    finally:
        handle.stop()


def sodapy_client(
    handle: EmulatorHandle,
    username: str | None = None,
    password: str | None = None,
    app_token: str | None = None,
    timeout: float = 60,
) -> Any:
    """A real sodapy `Socrata` client pointed at the stand-in over plain HTTP."""
    import requests
    from sodapy import Socrata

    return Socrata(
        handle.host,
        app_token,
        username=username,
        password=password,
        session_adapter={"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()},
        timeout=timeout,
    )
