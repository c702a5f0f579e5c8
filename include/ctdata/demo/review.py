"""An OPM reviewer at work, through Airflow's REST API: what the demo and the review tests do in
place of a person clicking Approve or Reject in the UI's Required Actions.

The reviewer signs in (`POST /auth/token`, a JWT), lists the reviews waiting for a decision
(`GET /api/v2/dags/{dag}/dagRuns/~/hitlDetails`) and answers one (`PATCH .../hitlDetails`), the
same calls the UI makes. Runs go through `airflow dags test`, which waits for such answers when
an API server shares its metadata database.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from ctdata.demo.environment import LocalSetup

if TYPE_CHECKING:
    from ctdata.specs import AgencySpec

REVIEWER = ("opm-reviewer", "demo-reviewer-password")
ENGINEER = ("data-engineer", "demo-engineer-password")

Decide = Callable[[dict[str, Any]], tuple[bool, str]]  # a review -> (approve?, reason)


def reviewer_env(setup: LocalSetup) -> dict[str, str]:
    """Airflow users for the embedded setup (an OPM reviewer, a data engineer) and the setting
    that assigns reviews to the reviewer alone."""
    passwords = setup.airflow_home / "simple_auth_manager_passwords.json"
    passwords.parent.mkdir(parents=True, exist_ok=True)
    passwords.write_text(json.dumps(dict([REVIEWER, ENGINEER])))
    return {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{REVIEWER[0]}:user,{ENGINEER[0]}:user",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "CTDATA_REVIEWERS": json.dumps([REVIEWER[0]]),
    }


@dataclass
class ReviewerClient:
    """Airflow's REST API as one user sees it."""

    api_url: str
    username: str
    password: str
    _token: str | None = field(default=None, repr=False)

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            answer = requests.post(
                f"{self.api_url}/auth/token",
                json={"username": self.username, "password": self.password},
                timeout=30,
            )
            answer.raise_for_status()
            self._token = answer.json()["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def pending(self, dag_id: str) -> list[dict[str, Any]]:
        """Reviews of the DAG's runs still waiting for a decision."""
        answer = requests.get(
            f"{self.api_url}/api/v2/dags/{dag_id}/dagRuns/~/hitlDetails",
            params={"response_received": "false"},
            headers=self._headers(),
            timeout=30,
        )
        answer.raise_for_status()
        return list(answer.json()["hitl_details"])

    def respond(self, review: dict[str, Any], approve: bool, reason: str) -> requests.Response:
        """Approve or Reject, with a reason, as the UI's form sends it."""
        ti = review["task_instance"]
        path = (f"/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/"
                f"{ti['task_id']}/{ti['map_index']}/hitlDetails")  # fmt: skip
        body = {"chosen_options": ["Approve" if approve else "Reject"],
                "params_input": {"reason": reason}}  # fmt: skip
        return requests.patch(
            f"{self.api_url}{path}", json=body, headers=self._headers(), timeout=30
        )


@dataclass
class ReviewedRun:
    ok: bool
    log: Path
    reviews: list[dict[str, Any]]  # each review as the API listed it, with "decision" added


def run_dag_with_reviews(
    setup: LocalSetup,
    env: dict[str, str],
    dag_id: str,
    reviewer: ReviewerClient,
    decide: Decide,
    timeout: float = 1800,
    conf: dict[str, Any] | None = None,
) -> ReviewedRun:
    """`airflow dags test DAG_ID [-c CONF]` (log in var/logs/<dag_id>.log), answering each
    review it waits for with `decide` through the REST API."""
    log = setup.logs_dir / f"{dag_id}.log"
    airflow = str(Path(sys.executable).with_name("airflow"))
    reviews: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    with log.open("w") as handle:
        command = [airflow, "dags", "test", dag_id, *(["-c", json.dumps(conf)] if conf else [])]
        process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
        try:
            while process.poll() is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{dag_id} did not finish within {timeout:.0f} s; see {log}")
                for review in reviewer.pending(dag_id):
                    approve, reason = decide(review)
                    reviewer.respond(review, approve, reason).raise_for_status()
                    reviews.append({**review, "decision": (approve, reason)})
                time.sleep(1)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return ReviewedRun(process.returncode == 0, log, reviews)  # non-zero: the run failed


def publish_with_reviews(
    setup: LocalSetup, env: dict[str, str], agencies: list[AgencySpec]
) -> list[str]:
    """Every agency DAG through `airflow dags test` with an API server beside it; each review a
    run waits for is approved through the REST API, as the OPM reviewer would in the UI.
    Returns the DAGs that failed."""
    from ctdata.demo.services import airflow_services

    env = {**env, **reviewer_env(setup)}
    failed = []
    print("Starting Airflow's API server: reviews are answered through its REST API...",
          flush=True)  # fmt: skip
    with airflow_services(env, setup.logs_dir / "services", ("api-server",)) as services:
        reviewer = ReviewerClient(services.api_url, *REVIEWER)
        for agency in agencies:
            started = time.monotonic()
            run = run_dag_with_reviews(setup, env, agency.dag_id, reviewer, approve_as_reviewer)
            status = "ok" if run.ok else f"FAILED, see {run.log}"
            print(f"  airflow dags test {agency.dag_id}: {status} "
                  f"({time.monotonic() - started:.0f} s)", flush=True)  # fmt: skip
            if not run.ok:
                failed.append(agency.dag_id)
    return failed


def approve_as_reviewer(review: dict[str, Any]) -> tuple[bool, str]:
    """The demo's reviewer: reads the request and approves it (printing what it read)."""
    lines = review.get("body", "").splitlines()
    why = next((line for line in lines if line.startswith("Why this review:")), "")
    rows = next((line for line in lines if line.endswith("rows would be published.")), "")
    print(f"    {review['subject']}")
    print(f"      {why.split('. Until')[0]}; {rows}")
    print(f"      approved by {REVIEWER[0]} through the REST API", flush=True)
    return True, "Checked title, columns, suppression and sample rows"


def review_outcome(result: dict[str, Any] | None) -> str:
    """The review task's result as the demo's summary shows it."""
    if not result:
        return "-"
    if result.get("review") == "approved":
        return f"approved by {result.get('reviewer')}"
    return str(result.get("review", "-"))


def lifecycle_summary(agencies: list[AgencySpec], client: Any) -> str:
    """Where each dataset is in its life: how its id came about, OPM's decision, visibility."""
    from ctdata.lifecycle.registry import locate_all
    from ctdata.lifecycle.review import is_public

    lines = ["Datasets' lifecycle (also: ctdata datasets):"]
    for where in locate_all(agencies):
        origin = (
            "pinned in the spec" if where.origin == "spec" else f"{where.origin} by the pipeline"
        )
        decision = where.last_decision
        review = f"{decision.decision} by {decision.reviewer}" if decision else "never reviewed"
        visible = "-"
        if where.portal_id:
            visible = "public" if is_public(client.get_metadata(where.portal_id)) else "private"
        lines.append(f"  {where.agency}/{where.slug}: {where.portal_id or '-'} {origin}; "
                     f"{review}; {visible}")  # fmt: skip
    return "\n".join(lines)
