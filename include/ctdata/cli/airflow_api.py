"""Airflow 3's REST API as the command line uses it: a JWT from `/auth/token`, then the calls a
person would make in the UI (trigger and unpause a DAG, read a run, list and answer the reviews
that wait in Required Actions).

Where the API is and who signs in: `--airflow URL` / `--user`, else CTDATA_AIRFLOW_URL /
CTDATA_AIRFLOW_USER / CTDATA_AIRFLOW_PASSWORD, else the local setup `ctdata local start`
recorded (its reviewer account), else Airflow's `[api] base_url`; a password not found is asked
for when a terminal is attached.
"""

from __future__ import annotations

import getpass
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from ctdata.errors import ConfigurationError, CtDataError

TRANSIENT_ATTEMPTS = 4
FINISHED = frozenset({"success", "failed"})


class AirflowApiError(CtDataError):
    """Airflow's API refused a request (the message has its status and answer)."""


@dataclass
class AirflowApi:
    base_url: str
    username: str
    password: str = field(repr=False)
    timeout_s: float = 60.0
    _token: str | None = field(default=None, repr=False)

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request; timeouts and dropped connections of a busy API server are retried."""
        for attempt in range(TRANSIENT_ATTEMPTS):
            try:
                return requests.request(method, url, timeout=self.timeout_s, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == TRANSIENT_ATTEMPTS - 1:
                    raise ConfigurationError(
                        f"Airflow's API server at {self.base_url} does not answer ({exc}); "
                        "start it (`airflow api-server`, or `ctdata local start`) or pass "
                        "--airflow URL"
                    ) from None
                time.sleep(2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def token(self) -> str:
        body = {"username": self.username, "password": self.password}
        answer = self._send("POST", f"{self.base_url}/auth/token", json=body)
        if answer.status_code not in (200, 201):
            raise AirflowApiError(
                f"signing in to {self.base_url} as {self.username!r} failed: HTTP "
                f"{answer.status_code} {answer.text[:200]}"
            )
        return str(answer.json()["access_token"])

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._token is None:
            self._token = self.token()
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self._token}"}
            answer = self._send(method, f"{self.base_url}/api/v2{path}", headers=headers, **kwargs)
            if answer.status_code == 401 and attempt == 0:  # an expired token: a new one
                self._token = self.token()
                continue
            if answer.status_code >= 400:
                raise AirflowApiError(
                    f"{method} {path}: HTTP {answer.status_code} {answer.text[:500]}"
                )
            return answer.json() if answer.content else None
        raise AirflowApiError(f"{method} {path}: not authorized as {self.username!r}")

    # runs

    def run_now(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Run the DAG once now. A paused DAG is unpaused after the trigger, and the run takes
        the interval the scheduler would run on unpausing (its latest due one, catchup being
        off), so unpausing adds no second run that the first would queue behind."""
        dag = self.request("GET", f"/dags/{dag_id}")
        due = dag.get("next_dagrun_logical_date") if dag.get("is_paused") else None
        body = {"logical_date": due, "conf": conf or {}}
        run_id = str(self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"])
        if dag.get("is_paused"):
            self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        return run_id

    def latest_run(self, dag_id: str) -> dict[str, Any] | None:
        params = {"order_by": "-run_after", "limit": 1}
        runs = self.request("GET", f"/dags/{dag_id}/dagRuns", params=params)["dag_runs"]
        return runs[0] if runs else None

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        return list(self.request("GET", path, params={"limit": 1000})["task_instances"])

    # reviews (human-in-the-loop)

    def pending_reviews(self, dag_id: str = "~", run_id: str = "~") -> list[dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/hitlDetails"
        answer = self.request("GET", path, params={"response_received": "false", "limit": 1000})
        return list(answer["hitl_details"])

    def decide(self, review: dict[str, Any], *, approve: bool, reason: str) -> dict[str, Any]:
        """Approve or Reject with a reason, as the UI's Required Actions form sends it."""
        ti = review["task_instance"]
        path = (f"/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/"
                f"{ti['task_id']}/{ti['map_index']}/hitlDetails")  # fmt: skip
        body = {"chosen_options": ["Approve" if approve else "Reject"],
                "params_input": {"reason": reason}}  # fmt: skip
        return dict(self.request("PATCH", path, json=body) or {})


def api_from(url: str | None, user: str | None) -> AirflowApi:
    """The API and the account to use: flags, then CTDATA_AIRFLOW_*, then `ctdata local`'s
    record, then Airflow's configured base URL (the password asked for on a terminal)."""
    from ctdata.cli.local_record import LocalRecord

    record = LocalRecord.load_live()
    base = url or os.environ.get("CTDATA_AIRFLOW_URL") or (record.api_url if record else None)
    base = (base or _configured_base_url()).rstrip("/")
    username = user or os.environ.get("CTDATA_AIRFLOW_USER")
    password = os.environ.get("CTDATA_AIRFLOW_PASSWORD")
    if record and base == record.api_url and not username:
        username, password = record.reviewer
    if not username:
        raise ConfigurationError(
            "who signs in to Airflow? pass --user (or set CTDATA_AIRFLOW_USER and "
            "CTDATA_AIRFLOW_PASSWORD)"
        )
    if password is None and record and base == record.api_url:
        password = record.password_of(username)
    if password is None:
        if not sys.stdin.isatty():
            raise ConfigurationError(
                f"no password for {username!r}: set CTDATA_AIRFLOW_PASSWORD (or run in a terminal)"
            )
        password = getpass.getpass(f"Airflow password for {username}: ")
    return AirflowApi(base, username, password)


def _configured_base_url() -> str:
    from airflow.configuration import conf

    return conf.get("api", "base_url", fallback="") or "http://localhost:8080"
