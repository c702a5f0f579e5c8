"""A small client of Airflow 3's REST API (/api/v2) as operators and the deployment tests use it:
a JWT from /auth/token, then unpause, trigger, wait and read task instances.

    api = AirflowApi("http://localhost:8080", "admin", password)
    run_id = api.run_now("publish_ocme")           # trigger + unpause
    api.wait_for_run("publish_ocme", run_id)        # -> "success"
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import requests

FINISHED = {"success", "failed"}
TRANSIENT_ATTEMPTS = 4


class AirflowApiError(Exception):
    """The API refused a request or a run did not finish as expected."""


@dataclass
class AirflowApi:
    base_url: str
    username: str
    password: str = field(repr=False)
    timeout_s: float = 60.0
    _token: str | None = field(default=None, repr=False)

    def token(self) -> str:
        """A JWT for the API (Airflow 3: POST /auth/token with the account's credentials)."""
        body = {"username": self.username, "password": self.password}
        response = self._send("POST", f"{self.base_url}/auth/token", json=body)
        if response.status_code not in (200, 201):
            raise AirflowApiError(f"/auth/token: HTTP {response.status_code} {response.text[:300]}")
        return str(response.json()["access_token"])

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request; a busy or restarting API server's timeouts and dropped connections are
        asked again, with growing pauses."""
        for attempt in range(TRANSIENT_ATTEMPTS):
            try:
                return requests.request(method, url, timeout=self.timeout_s, **kwargs)
            except (requests.ConnectionError, requests.Timeout):
                if attempt == TRANSIENT_ATTEMPTS - 1:
                    raise
                time.sleep(2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._token is None:
            self._token = self.token()
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self._token}"}
            response = self._send(
                method, f"{self.base_url}/api/v2{path}", headers=headers, **kwargs
            )
            if response.status_code == 401 and attempt == 0:  # expired token: get a new one
                self._token = self.token()
                continue
            if response.status_code >= 400:
                raise AirflowApiError(
                    f"{method} {path}: HTTP {response.status_code} {response.text[:500]}"
                )
            return response.json() if response.content else None
        raise AirflowApiError(f"{method} {path}: unauthorized")

    def dag_ids(self) -> set[str]:
        return {d["dag_id"] for d in self.request("GET", "/dags", params={"limit": 1000})["dags"]}

    def wait_for_dags(self, dag_ids: set[str], timeout_s: float = 600) -> None:
        """Until the DAG processor has parsed the given DAGs and each can be read in full
        (listed is not enough: the list may show a DAG a moment before its details)."""
        deadline = time.monotonic() + timeout_s
        waiting = set(dag_ids)
        while waiting:
            for dag_id in sorted(waiting & self.dag_ids()):
                try:
                    self.request("GET", f"/dags/{dag_id}/details")
                    waiting.discard(dag_id)
                except AirflowApiError:
                    pass
            if waiting and time.monotonic() > deadline:
                raise AirflowApiError(f"DAGs not parsed in {timeout_s:.0f} s: {sorted(waiting)}")
            if waiting:
                time.sleep(2)

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, logical_date: str | None = None) -> str:
        body = {"logical_date": logical_date, "conf": {}}
        return str(self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"])

    def run_now(self, dag_id: str) -> str:
        """Run a paused DAG once now and then on its schedule: trigger the interval the
        scheduler would run next (its latest due one; catchup is off), then unpause, so that
        unpausing adds no second run of the same interval. Returns the run id."""
        due = self.request("GET", f"/dags/{dag_id}")["next_dagrun_logical_date"]
        run_id = self.trigger(dag_id, logical_date=due)
        self.unpause(dag_id)
        return run_id

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def wait_for_run(
        self, dag_id: str, run_id: str, timeout_s: float = 600, *, approve_reviews: str = ""
    ) -> str:
        """The run's final state. With `approve_reviews` (the reason given), every OPM review
        the run asks for on the way (a dataset's first publication) is approved, as a
        reviewer would in the UI; without it a run waiting for a review times out."""
        deadline = time.monotonic() + timeout_s
        while (state := self.run_state(dag_id, run_id)) not in FINISHED:
            if time.monotonic() > deadline:
                raise AirflowApiError(f"{dag_id} {run_id} still {state} after {timeout_s:.0f} s")
            if approve_reviews:
                for review in self.pending_reviews(dag_id, run_id):
                    self.decide_review(review, approve=True, reason=approve_reviews)
            time.sleep(2)
        return state

    def pending_reviews(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Human-in-the-loop requests of the run still waiting for an answer."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/hitlDetails"
        answer = self.request("GET", path, params={"response_received": "false"})
        return list(answer["hitl_details"])

    def decide_review(self, review: dict[str, Any], *, approve: bool, reason: str) -> None:
        """Approve or Reject one review with a reason, as the UI's form sends it."""
        ti = review["task_instance"]
        path = (f"/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/"
                f"{ti['task_id']}/{ti['map_index']}/hitlDetails")  # fmt: skip
        body = {"chosen_options": ["Approve" if approve else "Reject"],
                "params_input": {"reason": reason}}  # fmt: skip
        self.request("PATCH", path, json=body)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        return list(self.request("GET", path, params={"limit": 1000})["task_instances"])

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"))

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        """A task's XCom value (the small summaries ctdata's tasks return)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        value = self.request("GET", path, params={"deserialize": True})["value"]
        return json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value

    def tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        """Every try of a task instance (state, hostname), oldest first."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/tries"
        return list(self.request("GET", path)["task_instances"])
