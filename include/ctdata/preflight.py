"""Checks before any work: what a run needs, found missing at its start with the exact fix,
rather than hours later in a task that retries or waits.

Each check returns `Finding`s (what, the problem, the fix), shared by three front doors:
the agency DAG's `preflight` task (the agency-wide needs, before any extract), the start of each
dataset's extract (that dataset's own needs: a typo in one dataset does not stop the others)
and `ctdata doctor` (the whole deployment, the Airflow side included).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctdata.errors import CtDataError, retry_can_help
from ctdata.specs.models import AgencySpec, DatasetSpec

ConnectionGetter = Callable[[str], Any]  # conn id -> an Airflow-like connection, or raises
POOL_DESCRIPTION = "Concurrent writes to the Socrata portal, all agencies together (ctdata)"


@dataclass(frozen=True)
class Finding:
    """One thing a deployment lacks: what, why it matters, and the exact fix."""

    subject: str
    problem: str
    fix: str
    transient: bool = False  # a later attempt may find it fixed (a database that is down)

    def __str__(self) -> str:
        return f"{self.subject}: {self.problem}. Fix: {self.fix}"


class PreflightFailed(CtDataError):
    """A run cannot make progress: what is missing, each with its fix. Retrying helps only
    when every finding is transient (a store or storage that is down)."""

    def __init__(self, what: str, findings: Iterable[Finding]) -> None:
        self.findings = list(findings)
        self.retryable = all(f.transient for f in self.findings)  # type: ignore[misc]
        lines = "\n".join(f"  - {finding}" for finding in self.findings)
        super().__init__(
            f"{what}: {len(self.findings)} problem(s) found before any work: "
            + "; ".join(map(str, self.findings))
            + f"\n{lines}"
        )


def require(what: str, findings: Iterable[Finding]) -> None:
    found = list(findings)
    if found:
        raise PreflightFailed(what, found)


@dataclass
class NeededConnection:
    users: list[str] = field(default_factory=list)  # agency codes, agency.dataset, DAG ids
    portal: bool = False  # a Socrata connection, checked as PortalConnection too


def needed_connections(
    agencies: Iterable[AgencySpec], portal_users: Mapping[str, str] | None = None
) -> dict[str, NeededConnection]:
    """Every connection the agencies' DAGs name (portal and sources), plus `portal_users`
    (conn id -> who, e.g. {"socrata_default": "usage_metrics"})."""
    needed: dict[str, NeededConnection] = {}

    def need(conn_id: str, user: str, portal: bool) -> None:
        entry = needed.setdefault(conn_id, NeededConnection())
        entry.users.append(user)
        entry.portal = entry.portal or portal

    for agency in agencies:
        need(agency.socrata_conn_id, agency.code, True)
        for dataset in agency.datasets:
            if conn_id := getattr(dataset.source, "conn_id", None):
                need(conn_id, f"{agency.code}.{dataset.slug}", False)
    for conn_id, user in (portal_users or {}).items():
        need(conn_id, user, True)
    return needed


def connection_findings(
    needed: Mapping[str, NeededConnection], get: ConnectionGetter
) -> list[Finding]:
    """Each connection resolves; a portal connection is also a usable portal address."""
    from ctdata.errors import ConfigurationError
    from ctdata.portal.connection import PortalConnection

    found = []
    for conn_id, need in needed.items():
        subject = f"connection {conn_id!r} (used by {', '.join(need.users)})"
        try:
            conn = get(conn_id)
        except Exception as exc:  # noqa: BLE001 - AirflowNotFoundException and kin
            if type(exc).__name__ != "AirflowNotFoundException" and not isinstance(
                exc, ConfigurationError
            ):
                raise
            found.append(Finding(subject, "is not defined", connection_fix(conn_id, need.portal)))
            continue
        if need.portal:
            try:
                PortalConnection.from_airflow_connection(conn)
            except ConfigurationError as exc:
                found.append(Finding(subject, str(exc).rstrip("."), "correct the connection"))
    return found


def state_store_findings(url: str, *, upgrade: bool = False) -> list[Finding]:
    """The store answers and its schema is at this release's revision. With `upgrade` (a run's
    preflight) a store behind is migrated, as any process finding it behind would do on first
    use; without (`ctdata doctor`) the pending revisions are reported with the command."""
    import sqlalchemy as sa

    from ctdata.store import StoreSchemaError, pending_revisions, redacted, upgrade_store

    subject = f"state store {redacted(url)}"
    try:
        pending = pending_revisions(url)
        if pending and upgrade:
            upgrade_store(url)
            pending = pending_revisions(url)
    except StoreSchemaError as exc:
        return [Finding(subject, str(exc).rstrip("."), "use the release that migrated it")]
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
        return [Finding(subject, f"cannot be reached ({reason})",
                        "check CTDATA_STATE_URL and that the database is up",
                        isinstance(exc, sa.exc.OperationalError))]  # fmt: skip
    if pending:
        return [Finding(subject, f"is behind this release's schema ({'; '.join(pending)})",
                        "run `ctdata doctor --upgrade` once, where CTDATA_STATE_URL points at it")]  # fmt: skip
    return []


def connection_fix(conn_id: str, portal: bool) -> str:
    variable = f"AIRFLOW_CONN_{conn_id.upper()}"
    if portal:
        return (
            f"""set {variable}='{{"conn_type": "socrata", "host": "data.ct.gov", "schema": """
            f""""https", "login": "...", "password": "...", "extra": {{"app_token": "..."}}}}'"""
            f" where Airflow runs, or `airflow connections add {conn_id} --conn-type socrata "
            "--conn-host data.ct.gov --conn-schema https --conn-login ... --conn-password ...`"
        )
    return (
        f"set {variable} (a URI such as postgresql://user:pass@host/db, or Airflow's JSON form) "
        f"where Airflow runs, or `airflow connections add {conn_id} ...`"
    )


def staging_findings(root: str, open_path: Callable[[str], Any]) -> list[Finding]:
    """The staging root can be written to (a probe file is written and removed)."""
    try:
        path = open_path(root)
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".ctdata-preflight-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except Exception as exc:  # noqa: BLE001 - any storage error says the same
        return [Finding(f"staging root {root}", f"is not writable ({type(exc).__name__}: {exc})",
                        "set CTDATA_STAGING_ROOT to a folder or bucket the workers can write "
                        "(and its object storage connection)", retry_can_help(exc))]  # fmt: skip
    return []


def dataset_findings(
    agency: AgencySpec,
    dataset: DatasetSpec,
    expectations_dir: Path,
    *,
    get_connection: ConnectionGetter | None = None,
    load_suites: bool = False,
) -> list[Finding]:
    """One dataset's own needs: metadata meeting the state's standard, its suites, its
    aggregation's declared outputs, the pseudonym key it uses, its source connection."""
    from ctdata.specs.metadata_checks import dataset_problems
    from ctdata.specs.structure_checks import structure_problems

    subject = f"dataset {agency.code}.{dataset.slug}"
    lint = f"`ctdata lint` lists them in {agency.code}.yaml"
    found = []
    metadata = dataset_problems(dataset.model_dump(mode="json"))
    if metadata:
        first = f"{metadata[0][0]}: {metadata[0][1]}"
        found.append(Finding(subject, f"its metadata does not meet the state's standard "
                             f"({len(metadata)} problem(s); first: {first})", lint))  # fmt: skip
    for where, message in structure_problems(dataset, expectations_dir, load_suites=load_suites):
        found.append(Finding(f"{subject} {where}", message.rstrip("."), f"fix the spec; {lint}"))
    found += _pseudonym_findings(subject, dataset)
    conn_id = getattr(dataset.source, "conn_id", None)
    if conn_id and get_connection is not None:
        needed = {conn_id: NeededConnection([f"{agency.code}.{dataset.slug}"])}
        found += connection_findings(needed, get_connection)
    return found


def _pseudonym_findings(subject: str, dataset: DatasetSpec) -> list[Finding]:
    keys = {t.key_env for t in dataset.transforms if t.kind == "pseudonymize"}
    return [
        Finding(subject, f"pseudonymizes with the key in {key}, which is not set",
                f"set {key} (a long random secret, the same on every worker, never changed)")
        for key in sorted(keys) if not os.environ.get(key)
    ]  # fmt: skip


def require_dataset_ready(
    agency: AgencySpec,
    dataset: DatasetSpec,
    expectations_dir: Path,
    get_connection: ConnectionGetter | None = None,
) -> None:
    """Raise PreflightFailed before a dataset's extract when it cannot be published."""
    require(
        f"dataset {dataset.slug!r} of {agency.code!r} cannot be published",
        dataset_findings(agency, dataset, expectations_dir, get_connection=get_connection),
    )
