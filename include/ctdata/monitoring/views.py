"""Read models of the Open Data view: the dataset list (the JSON API's `datasets`), the
overview by agency, and one dataset's page. Plain JSON-ready dicts built from the agency
specs, the monitoring ledger and the usage history; the FastAPI app and the alerts both use
them, so the page, the API and the e-mail say the same thing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from ctdata import settings
from ctdata.clock import local_time, state_date
from ctdata.metrics.history import COUNTERS
from ctdata.monitoring import facts, rows, schedule
from ctdata.monitoring.catalog import PROGRAM, PROGRAM_PUBLISHERS, Catalog, Entry, load_catalog
from ctdata.monitoring.ledger import Ledger
from ctdata.monitoring.usage import UsageReader

VALIDATE_STEPS = ("validate_source", "validate_publishable")
# Every status a row can have, those needing attention first.
STATUSES = (*schedule.STATUS_ORDER, facts.RETIRING, facts.RETIRED)
Reviews = Callable[[], list[dict[str, Any]]]  # reviews waiting for a decision (from Airflow)
NO_LOG = (
    "no task log: the run was made by `airflow dags test`, which prints its tasks' logs "
    "instead of keeping them (the demo writes them to var/logs/)"
)


@dataclass(frozen=True)
class Filters:
    agency: str | None = None
    category: str | None = None
    status: str | None = None

    def keep(self, row: dict[str, Any]) -> bool:
        return (
            (not self.agency or row["agency"] == self.agency)
            and (not self.category or row["category"] == self.category)
            and (not self.status or row["status"] == self.status)
        )


@dataclass(frozen=True)
class Links:
    """Where the pages point: the portal, and the Airflow UI (its base URL). `logs_kept` says
    whether Airflow kept a run's task logs (`airflow dags test` runs tasks in its own process
    and keeps none): a link to an empty log is not given."""

    portal: str
    airflow: str = ""
    logs_kept: Callable[[str, str], bool] | None = None

    def log(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        if self.logs_kept is not None and not self.logs_kept(dag_id, run_id):
            return None
        return self.task(dag_id, run_id, task_id)

    def dataset(self, portal_id: str) -> str:
        return f"{self.portal}/d/{portal_id}"

    def run(self, dag_id: str, run_id: str) -> str:
        return f"{self.airflow}/dags/{dag_id}/runs/{run_id}"

    def task(self, dag_id: str, run_id: str, task_id: str) -> str:
        return f"{self.run(dag_id, run_id)}/tasks/{task_id}"

    def dag(self, dag_id: str) -> str:
        return f"{self.airflow}/dags/{dag_id}"


class OpenDataViews:
    def __init__(
        self,
        url: str | None = None,
        *,
        links: Links | None = None,
        catalog: Catalog | None = None,
        reviews: Reviews | None = None,
    ) -> None:
        self.ledger = Ledger(url)
        self.usage = UsageReader(url)
        self.links = links or Links(settings.current().portal_url)
        self.reviews = reviews or (lambda: [])
        self._catalog = catalog
        self._rows: tuple[tuple[Any, ...], Catalog, list[dict[str, Any]]] | None = None

    def dispose(self) -> None:
        self.ledger.dispose()
        self.usage.dispose()

    @property
    def catalog(self) -> Catalog:
        return self._catalog or load_catalog(state_url=self.ledger.url)

    def key_of(self, agency: str, slug: str) -> str | None:
        """The key the rows file an agency's dataset under (its portal id once it has one)."""
        found = self.catalog.entries.items()
        return next(
            (k for k, e in found if (e.agency.code, e.dataset.slug) == (agency, slug)), None
        )

    # -- the dataset list ----------------------------------------------------------------------

    def datasets(
        self,
        allowed: Collection[str] | None = None,
        filters: Filters = Filters(),
        now: dt.datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Every dataset the user may see (`allowed`: agency codes, None for all), failing and
        overdue first."""
        found = self._all_rows(now or dt.datetime.now(dt.UTC))
        return [r for r in found if (allowed is None or r["agency"] in allowed) and filters.keep(r)]

    def _all_rows(self, now: dt.datetime) -> list[dict[str, Any]]:
        """Every dataset's row, built again when the ledger, the usage history or the catalog
        changed, or the minute did (due times move with the clock). Callers must not modify
        the rows."""
        minute = now.replace(second=0, microsecond=0)
        key = (minute, self.ledger.version(), self.usage.version())
        catalog = self.catalog
        if self._rows is None or self._rows[0] != key or self._rows[1] is not catalog:
            self._rows = (key, catalog, self._build_rows(catalog, now))
        return self._rows[2]

    def _build_rows(self, catalog: Catalog, now: dt.datetime) -> list[dict[str, Any]]:
        latest = self.ledger.latest_runs()
        today = state_date(now)
        usage = self.usage.totals(today - dt.timedelta(days=29), today)
        measured = self.usage.latest()
        records = self._records(latest.values())
        built = []
        for key, entry in catalog.entries.items():
            row = self._row(key, entry, latest.get(key), records, measured.get(key), now)
            row["usage_30d"] = usage.get(key, dict.fromkeys(COUNTERS, 0))
            built.append(row)
        rank = {s: i for i, s in enumerate(STATUSES)}
        built.sort(key=lambda r: (rank.get(r["status"], 99), r["agency"], r["title"]))
        return built

    def _records(self, runs: Any) -> dict[int, dict[str, Any]]:
        """The step records the rows need, of every dataset's latest and latest good run."""
        pks = [r[k]["id"] for r in runs for k in ("last", "success") if r.get(k)]
        return self.ledger.step_records(pks, facts.FACT_STEPS) if pks else {}

    def _row(
        self,
        key: str,
        entry: Entry,
        runs: dict[str, Any] | None,
        records: dict[int, dict[str, Any]],
        measured: dict[str, Any] | None,
        now: dt.datetime,
    ) -> dict[str, Any]:
        """`key` is the ledger's id of the dataset: its portal id, or `<agency>.<slug>` before
        the pipeline has created it (`portal_id` is then None)."""
        dataset = entry.dataset
        last = runs["last"] if runs else None
        success = runs["success"] if runs else None
        due = schedule.standing(
            dataset.effective_schedule,
            dataset.metadata.update_frequency,
            last_success=success["started"] if success else None,
            last_status=last["status"] if last else None,
            now=now,
        )
        found = facts.portal_facts(runs, records, dataset, state_date(now))
        row = {
            "agency": entry.agency.code,
            "agency_name": entry.agency.name,
            "key": key,
            "portal_id": dataset.portal_id,
            "slug": dataset.slug,
            "title": dataset.metadata.title,
            "category": dataset.metadata.category,
            "update_frequency": dataset.metadata.update_frequency,
            "portal_url": self.links.dataset(dataset.portal_id) if dataset.portal_id else None,
            "status": facts.view_status(due.status, found.retirement),
            "next_due": rows.iso(due.next_due),
            "next_due_local": local_time(due.next_due),
            "last_publish": rows.publish_figures(success),
            "last_run": self._run_brief(last, found.retrying),
            "suppressed_cells": last.get("cells_suppressed")
            if last and dataset.aggregation
            else None,
            "record_level": dataset.aggregation is None,
            "validation": _validation(last),
            "visibility": found.visibility,
            "retirement": found.retirement,
            "missing_metadata": (measured or {}).get("missing_metadata"),
            "publishes_with": None,
        }
        if entry.agency.code == PROGRAM:  # OPM's own: published by its DAGs, measured nightly
            row.update(rows.program_standing(measured), record_level=False)  # no visibility known
            row["publishes_with"] = PROGRAM_PUBLISHERS.get(dataset.slug, "OPM's DAGs")
            row["next_due_local"] = f"with {row['publishes_with']}"
        if row["status"] in (facts.RETIRING, facts.RETIRED):
            row["next_due"], row["next_due_local"] = None, "- (no longer refreshed)"
        return row

    def _run_brief(
        self, run: dict[str, Any] | None, retrying: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        if run is None:
            return None
        brief = {
            "run_id": run["run_id"],
            "status": run["status"],
            "started": rows.iso(run["started"]),
            "started_local": local_time(run["started"]),
            "finished": rows.iso(run.get("finished")),
            "failed_step": run.get("failed_step"),
            "reason": run.get("reason"),
            "airflow_url": self.links.run(run["dag_id"], run["run_id"]),
        }
        step = run.get("failed_step")
        if retrying:  # the step failed, and Airflow will try it again: say why
            step = retrying["step"]
            brief.update(status="retrying", retrying_step=step, reason=retrying.get("reason"))
        if step:
            log = self.links.log(run["dag_id"], run["run_id"], f"{run['slug']}.{step}")
            brief["log_url"] = log
            if log is None:
                brief["log_note"] = NO_LOG
        return brief

    # -- the overview --------------------------------------------------------------------------

    def overview(
        self,
        allowed: Collection[str] | None = None,
        filters: Filters = Filters(),
        now: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """One row per agency (failing and overdue first), the "needs OPM" queue and the
        filters' choices."""
        now = now or dt.datetime.now(dt.UTC)
        found = self.datasets(allowed, filters, now)
        by_agency: dict[str, list[dict[str, Any]]] = {}
        for row in found:
            by_agency.setdefault(row["agency"], []).append(row)
        catalog = self.catalog
        specs = {a.code: a for a in catalog.agencies}
        today = state_date(now)
        agencies = [rows.agency_row(c, specs.get(c), ds, today) for c, ds in by_agency.items()]
        agencies.sort(key=lambda a: (-a["failing"], -a["overdue"], a["name"]))
        visible = [a for a in catalog.agencies if allowed is None or a.code in allowed]
        reviews = [r for r in self.reviews() if allowed is None or r["agency"] in allowed]
        return {
            "agencies": agencies,
            "datasets": found,
            "queue": rows.queue(found, specs, self.usage.attention(), reviews),
            "choices": {
                "agency": [(a.code, a.name) for a in sorted(visible, key=lambda a: a.name)],
                "category": sorted({d.metadata.category for a in visible for d in a.datasets}),
                "status": list(STATUSES),
            },
        }

    # -- one dataset ---------------------------------------------------------------------------

    def dataset(self, key: str, now: dt.datetime | None = None) -> dict[str, Any] | None:
        """The dataset page: its row, the last run's steps, usage series and run history.
        `key` as the rows have it (`<agency>.<slug>` still finds a dataset created since)."""
        found = self.catalog.find(key)
        if found is None:
            return None
        key, entry = found
        now = now or dt.datetime.now(dt.UTC)
        history = self.ledger.history(key, limit=100)
        runs = None
        if history:
            success = next(
                (r for r in history if r["status"] == "succeeded" and r.get("created") is not None),
                None,
            )
            if success is None:
                success = self.ledger.latest_runs().get(key, {}).get("success")
            runs = {"last": history[0], "success": success}
        records = self._records([runs] if runs else [])
        page = self._row(key, entry, runs, records, self.usage.latest().get(key), now)
        today = state_date(now)
        series = self.usage.series(key, today - dt.timedelta(days=364), today)
        page["usage_30d"] = _sum(series[-30:])
        page["usage_365d"] = _sum(series)
        page["usage_series"] = series
        page["data_officer"] = entry.agency.data_officer.model_dump()
        page["dag_id"] = _publishing_dag(entry)
        page["dag_url"] = self.links.dag(page["dag_id"]) if page["dag_id"] else None
        aggregation = entry.dataset.aggregation
        page["protection"] = aggregation.protection if aggregation else None
        page["threshold"] = aggregation.threshold if aggregation else None
        detail = self._last_run_detail(history[0], page["last_run"]) if history else None
        if detail is not None and aggregation is None:
            made = detail.get("disclosure")  # what the protection step did to the records
            detail["deidentification"] = facts.deidentification(entry.dataset, made)
        page["last_run_detail"] = detail
        page["history"] = [self._history_row(r) for r in history]
        return page

    def _last_run_detail(self, run: dict[str, Any], brief: dict[str, Any] | None) -> dict[str, Any]:
        detail = self.ledger.run(run["dataset_id"], run["run_id"]) or {"steps": {}}
        steps = detail["steps"]
        validation = {}
        for step in VALIDATE_STEPS:
            record = steps.get(step)
            if record:
                summary = record["summary"]
                validation[step] = summary.get("validation", summary)
        prepared = steps.get("aggregate_and_suppress") or steps.get("prepare_records")
        return {
            **(brief or self._run_brief(run)),
            "steps": {name: s["status"] for name, s in steps.items()},
            "validation": validation,
            "disclosure": prepared["summary"] if prepared else None,
            "publish": steps["publish"]["summary"] if "publish" in steps else None,
        }

    def _history_row(self, run: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._run_brief(run),
            "created": run.get("created"),
            "updated": run.get("updated"),
            "deleted": run.get("deleted"),
            "bytes_sent": run.get("bytes_sent"),
            "cells_suppressed": run.get("cells_suppressed"),
            "validation": _validation(run),
        }


def _publishing_dag(entry: Entry) -> str | None:
    """The DAG that publishes the dataset: its agency's, or the one OPM's own dataset names."""
    if entry.agency.code != PROGRAM:
        return entry.agency.dag_id
    said = PROGRAM_PUBLISHERS.get(entry.dataset.slug, "")
    return said.split()[1] if said.endswith(" DAG") else None


def _validation(run: dict[str, Any] | None) -> str | None:
    if run is None or run.get("validation_passed") is None:
        return None
    return "passed" if run["validation_passed"] else "failed"


def _sum(series: list[dict[str, Any]]) -> dict[str, int]:
    return {c: sum(d[c] or 0 for d in series) for c in COUNTERS}
