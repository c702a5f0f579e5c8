"""The monitoring ledger: one row per dataset per Airflow run, with each step's outcome.

Tasks write it as they finish (the step's summary, the XCom, on success; the error's type and
a reason without data values on failure); the Open Data view, the alerts and the run-log
dataset read it. A third table keeps, per dataset, its latest run and latest successful run,
so the overview reads one row per dataset however long the history grows.

SQLAlchemy 2 on the state store (`CTDATA_STATE_URL`): SQLite by default, PostgreSQL too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ctdata import settings, store
from ctdata.store import redacted

metadata = MetaData()
KEY_LENGTH = 80  # a portal id, or `<agency>.<slug>` (30 + 1 + 40) before the dataset exists

runs = Table(
    "monitor_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", String(KEY_LENGTH), nullable=False),
    Column("agency", String(30), nullable=False),
    Column("slug", String(40), nullable=False),
    Column("dag_id", String(250), nullable=False),
    Column("run_id", String(250), nullable=False),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False),
    Column("failed_step", String(40), nullable=True),
    Column("error_type", String(80), nullable=True),
    Column("reason", Text, nullable=True),
    Column("created", BigInteger, nullable=True),
    Column("updated", BigInteger, nullable=True),
    Column("deleted", BigInteger, nullable=True),
    Column("bytes_sent", BigInteger, nullable=True),
    Column("cells_suppressed", Integer, nullable=True),
    Column("primary_suppressed", Integer, nullable=True),
    Column("complementary_suppressed", Integer, nullable=True),
    Column("audit_passed", Boolean, nullable=True),
    Column("validation_passed", Boolean, nullable=True),
    Column("expectations_failed", Integer, nullable=True),
    UniqueConstraint("dataset_id", "run_id", name="uq_monitor_runs_dataset_run"),
    Index("ix_monitor_runs_dataset_id", "dataset_id", "id"),
)

steps = Table(
    "monitor_steps",
    metadata,
    Column("run_pk", Integer, ForeignKey("monitor_runs.id"), primary_key=True),
    Column("step", String(40), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("finished", DateTime(timezone=True), nullable=False),
    Column("summary", Text, nullable=False),
)

latest = Table(
    "monitor_latest",
    metadata,
    Column("dataset_id", String(KEY_LENGTH), primary_key=True),
    Column("last_run", Integer, nullable=False),
    Column("last_success", Integer, nullable=True),
)

# Bumped by every write, so readers can keep what they computed until the ledger changes.
version = Table(
    "monitor_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

RUNNING, SUCCEEDED, FAILED, RETRYING = "running", "succeeded", "failed", "retrying"
_LAST_COLUMNS = ("id", "agency", "slug", "dag_id", "run_id", "started", "finished", "status",
                 "failed_step", "reason", "cells_suppressed", "validation_passed",
                 "expectations_failed")  # fmt: skip
_SUCCESS_COLUMNS = ("id", "started", "finished", "created", "updated", "deleted", "bytes_sent")
# A run's work is done once its metadata is in line (a retiring dataset's: once retire ran).
FINAL_STEPS = ("sync_metadata", "retire")


@dataclass(frozen=True)
class RunKey:
    """Which dataset run a record belongs to."""

    agency: str
    slug: str
    dataset_id: str
    dag_id: str
    run_id: str


def _now() -> datetime:
    return datetime.now(UTC)


def run_figures(step: str, summary: dict[str, Any]) -> dict[str, Any]:
    """The run-level columns a step's summary fills (publish counts, suppression, validation)."""
    if step == "publish":
        keys = ("created", "updated", "deleted", "bytes_sent")
        return {k: summary.get(k) for k in keys}
    if step in ("aggregate_and_suppress", "prepare_records"):
        return {
            "cells_suppressed": summary.get("cells_suppressed"),
            "primary_suppressed": summary.get("primary"),
            "complementary_suppressed": summary.get("complementary"),
            "audit_passed": summary.get("audit_passed"),
        }
    return {}


class Ledger:
    """Writes and reads the monitoring ledger; creates its tables on first use."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or settings.current().state_url
        self.engine: Engine = store.engine(self.url)
        store.ensure_tables(metadata, self.engine)
        self._latest: tuple[int, dict[str, dict[str, Any]]] | None = None
        self._create_version_row()

    def _create_version_row(self) -> None:
        """The version row exists before any write, so writers only ever update it."""
        try:
            with self.engine.begin() as conn:
                if conn.execute(select(version.c.id)).first() is None:
                    conn.execute(insert(version).values(id=1, value=0))
        except IntegrityError:
            pass  # another process created it first

    def __repr__(self) -> str:
        return f"Ledger({redacted(self.url)!r})"

    def dispose(self) -> None:
        store.release(self.url)

    # -- writing -----------------------------------------------------------------------------

    def record_step(
        self, key: RunKey, step: str, summary: dict[str, Any], *, attempt: int = 1
    ) -> int:
        """A step succeeded: keep its summary and the run figures it carries."""
        with self.engine.begin() as conn:
            pk, run = self._run(conn, key)
            self._put_step(conn, pk, step, "succeeded", attempt, summary)
            values = run_figures(step, summary)
            if step.startswith("validate"):
                values.update(_validation_values(run, summary))
            if step in FINAL_STEPS:
                values.update(status=SUCCEEDED, finished=_now())
            if values:
                conn.execute(update(runs).where(runs.c.id == pk).values(**values))
            if step == FINAL_STEPS[0]:  # the latest success is the latest publish
                self._set_latest(conn, key.dataset_id, pk, success=True)
        return pk

    def record_failure(
        self,
        key: RunKey,
        step: str,
        error_type: str,
        reason: str,
        *,
        attempt: int = 1,
        final: bool = True,
        validation: dict[str, Any] | None = None,
    ) -> int:
        """A step failed. `reason` must hold no data value (see ctdata.monitoring.reasons); a
        failure that Airflow will retry is kept on the step only, a final one fails the run."""
        summary = {"error_type": error_type, "reason": reason, "final": final}
        if validation is not None:
            summary["validation"] = validation
        with self.engine.begin() as conn:
            pk, _ = self._run(conn, key)
            self._put_step(conn, pk, step, FAILED if final else RETRYING, attempt, summary)
            if final:
                values: dict[str, Any] = {
                    "status": FAILED,
                    "finished": _now(),
                    "failed_step": step,
                    "error_type": error_type,
                    "reason": reason,
                }
                if step.startswith("validate"):
                    values["validation_passed"] = False
                    if validation is not None:
                        values["expectations_failed"] = validation.get("failed")
                conn.execute(update(runs).where(runs.c.id == pk).values(**values))
        return pk

    def close(self, dataset_id: str, run_id: str) -> dict[str, Any] | None:
        """The run once all its tasks are done: one still `running` then ended without a
        final record (a task killed or lost), so it failed."""
        with self.engine.begin() as conn:
            _bump(conn)
            conn.execute(
                update(runs)
                .where(runs.c.dataset_id == dataset_id, runs.c.run_id == run_id)
                .where(runs.c.status == RUNNING)
                .values(
                    status=FAILED,
                    finished=_now(),
                    reason="A task ended without reporting its outcome (killed, timed out or "
                    "its worker lost); see the Airflow run.",
                )
            )
        return self.run(dataset_id, run_id)

    def rekey(self, old: str, new: str) -> int:
        """A dataset the pipeline just created files its runs under its portal id: the runs
        so far under `old` (its `<agency>.<slug>`, e.g. this run's extract and validation)
        move to `new`. Returns how many moved; a run already under `new` stays as it is."""
        with self.engine.begin() as conn:
            taken = select(runs.c.run_id).where(runs.c.dataset_id == new)
            moved = conn.execute(
                update(runs)
                .where(runs.c.dataset_id == old, runs.c.run_id.not_in(taken))
                .values(dataset_id=new)
            ).rowcount
            if not moved:
                return 0
            _bump(conn)
            conn.execute(delete(latest).where(latest.c.dataset_id.in_([old, new])))
            newest = select(func.max(runs.c.id)).where(runs.c.dataset_id == new)
            last = conn.execute(newest).scalar()
            good = conn.execute(newest.where(runs.c.status == SUCCEEDED)).scalar()
            conn.execute(insert(latest).values(dataset_id=new, last_run=last, last_success=good))
        return int(moved)

    def _run(self, conn: Connection, key: RunKey) -> tuple[int, dict[str, Any]]:
        """The run's row, created (status running) by its first record. Every write passes
        here, so this is where the ledger's version moves on."""
        _bump(conn)
        found = conn.execute(
            select(runs).where(runs.c.dataset_id == key.dataset_id, runs.c.run_id == key.run_id)
        ).mappings().first()  # fmt: skip
        if found is not None:
            return int(found["id"]), dict(found)
        row = {
            "dataset_id": key.dataset_id,
            "agency": key.agency,
            "slug": key.slug,
            "dag_id": key.dag_id,
            "run_id": key.run_id,
            "started": _now(),
            "status": RUNNING,
        }
        pk = int(conn.execute(insert(runs).values(**row)).inserted_primary_key[0])
        self._set_latest(conn, key.dataset_id, pk, success=False)
        return pk, {**row, "id": pk}

    @staticmethod
    def _put_step(
        conn: Connection, pk: int, step: str, status: str, attempt: int, summary: dict[str, Any]
    ) -> None:
        values = {
            "status": status,
            "attempt": attempt,
            "finished": _now(),
            "summary": json.dumps(summary, default=str),
        }
        done = conn.execute(
            update(steps).where(steps.c.run_pk == pk, steps.c.step == step).values(**values)
        )
        if done.rowcount == 0:
            conn.execute(insert(steps).values(run_pk=pk, step=step, **values))

    @staticmethod
    def _set_latest(conn: Connection, dataset_id: str, pk: int, *, success: bool) -> None:
        values: dict[str, Any] = {"last_success": pk} if success else {"last_run": pk}
        done = conn.execute(
            update(latest).where(latest.c.dataset_id == dataset_id).values(**values)
        )
        if done.rowcount == 0:
            conn.execute(
                insert(latest).values(
                    dataset_id=dataset_id, last_run=pk, last_success=pk if success else None
                )
            )

    # -- reading -----------------------------------------------------------------------------

    def version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(version.c.value)).scalar() or 0)

    def latest_runs(self) -> dict[str, dict[str, Any]]:
        """Per dataset id: `last` (its latest run) and `success` (latest succeeded run), with
        the columns the overview shows; read again only after a write."""
        now = self.version()
        if self._latest is None or self._latest[0] != now:
            self._latest = (now, self._read_latest())
        return self._latest[1]

    def _read_latest(self) -> dict[str, dict[str, Any]]:
        last, good = runs.alias("last_run"), runs.alias("good_run")
        query = (
            select(latest.c.dataset_id, *(last.c[name] for name in _LAST_COLUMNS),
                   *(good.c[name].label(f"success_{name}") for name in _SUCCESS_COLUMNS))
            .join(last, last.c.id == latest.c.last_run)
            .outerjoin(good, good.c.id == latest.c.last_success)
        )  # fmt: skip
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                values = row._asdict()
                success = {name: values.pop(f"success_{name}") for name in _SUCCESS_COLUMNS}
                out[values.pop("dataset_id")] = {
                    "last": _utc_row(values),
                    "success": _utc_row(success) if success["started"] else None,
                }
        return out

    def step_records(self, run_pks: list[int], names: tuple[str, ...]) -> dict[int, dict]:
        """Of these runs, the named steps that succeeded and any step being retried."""
        kept = steps.c.step.in_(names) & (steps.c.status == SUCCEEDED)
        query = select(steps.c.run_pk, steps.c.step, steps.c.status, steps.c.summary)
        out: dict[int, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            rows = query.where(steps.c.run_pk.in_(run_pks), kept | (steps.c.status == RETRYING))
            for row in conn.execute(rows):
                record = {"status": row.status, "summary": json.loads(row.summary)}
                out.setdefault(int(row.run_pk), {})[row.step] = record
        return out

    def history(self, dataset_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The dataset's runs, latest first."""
        query = (
            select(runs).where(runs.c.dataset_id == dataset_id).order_by(runs.c.id.desc()).limit(limit)
        )  # fmt: skip
        with self.engine.connect() as conn:
            return [_utc_row(dict(r)) for r in conn.execute(query).mappings()]

    def run(self, dataset_id: str, run_id: str) -> dict[str, Any] | None:
        """One dataset run with its steps (by step name, summaries decoded)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(runs).where(runs.c.dataset_id == dataset_id, runs.c.run_id == run_id)
            ).mappings().first()  # fmt: skip
            if row is None:
                return None
            found = conn.execute(select(steps).where(steps.c.run_pk == row["id"])).mappings()
            run = _utc_row(dict(row))
            run["steps"] = {s["step"]: _step_dict(s) for s in found}
        return run


def _bump(conn: Connection) -> None:
    conn.execute(update(version).values(value=version.c.value + 1))


def _validation_values(run: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """Validation passes when every stage so far passed; failures add up over stages."""
    passed = bool(summary.get("success")) and run.get("validation_passed") is not False
    failed = int(summary.get("failed") or 0) + int(run.get("expectations_failed") or 0)
    return {"validation_passed": passed, "expectations_failed": failed}


def _step_dict(row: Any) -> dict[str, Any]:
    out = _utc_row(dict(row))
    out["summary"] = json.loads(out["summary"])
    out.pop("run_pk", None)
    return out


def _utc_row(row: dict[str, Any]) -> dict[str, Any]:
    """SQLite hands back naive datetimes: they were written in UTC."""
    for key, value in row.items():
        if isinstance(value, datetime) and value.tzinfo is None:
            row[key] = value.replace(tzinfo=UTC)
    return row
