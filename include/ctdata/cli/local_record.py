"""Where `ctdata local start` recorded what it started (`var/local/services.json`): the portal
stand-in, Airflow's API server and the sandbox's accounts, for the commands that find them."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ctdata import settings


@dataclass
class LocalRecord:
    """What `ctdata local start` started, and the accounts to use with it."""

    var_dir: str
    portal_url: str
    portal_pid: int
    api_url: str = ""
    airflow_pids: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)  # user -> password (demo-only)
    reviewer_user: str = ""
    engineer_user: str = ""

    @staticmethod
    def path() -> Path:
        return settings.current().var_dir / "local" / "services.json"

    @classmethod
    def load(cls) -> LocalRecord | None:
        try:
            return cls(**json.loads(cls.path().read_text()))
        except (OSError, ValueError, TypeError):
            return None

    @classmethod
    def load_live(cls) -> LocalRecord | None:
        """The record, when its stand-in is still running."""
        record = cls.load()
        return record if record is not None and alive(record.portal_pid) else None

    def save(self) -> None:
        self.path().parent.mkdir(parents=True, exist_ok=True)
        self.path().write_text(json.dumps(asdict(self), indent=2))

    @property
    def reviewer(self) -> tuple[str, str]:
        return self.reviewer_user, self.accounts.get(self.reviewer_user, "")

    def password_of(self, user: str) -> str | None:
        return self.accounts.get(user)

    def portal_connection(self) -> dict[str, Any]:
        from ctdata.demo.environment import APP_TOKEN, PUBLISHER

        host_port = self.portal_url.split("://", 1)[1]
        host, port = host_port.rsplit(":", 1)
        return {"conn_type": "socrata", "host": host, "port": int(port), "schema": "http",
                "login": PUBLISHER[0], "password": PUBLISHER[1],
                "extra": {"app_token": APP_TOKEN}}  # fmt: skip


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (OSError, TypeError):
        return False
    return True
