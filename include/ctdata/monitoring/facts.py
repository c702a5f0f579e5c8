"""What the view says beyond the schedule, from the steps the ledger recorded: whether the
public can open a dataset on the portal, where its retirement stands, a step Airflow is
retrying (with its reason), what de-identification did to a record-level dataset, and where
its access plan stands. Pure functions over the ledger's records and the specs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ctdata.retirement.process import MID_RETIREMENT, RETIRED, SCHEDULED, stage_on
from ctdata.specs.access_plan import AccessPlanProgress, access_plan_items, progress
from ctdata.specs.models import AgencySpec, DatasetSpec

PUBLIC, PRIVATE = "public", "private"
RETIRING = "retiring"  # the view's status of a dataset mid-retirement (RETIRED: retired)
FACT_STEPS = ("sync_metadata", "retire")  # the steps whose summaries say what the portal shows


@dataclass(frozen=True)
class PortalFacts:
    """A dataset's standing on the portal as the latest runs left it (None: not known)."""

    visibility: str | None = None
    retirement: dict[str, Any] | None = None
    retrying: dict[str, Any] | None = None


def portal_facts(
    runs: dict[str, Any] | None, records: dict[int, dict[str, Any]], dataset: DatasetSpec,
    today: dt.date,
) -> PortalFacts:  # fmt: skip
    """From the dataset's latest run and latest successful publish (`runs`, as the ledger's
    `latest_runs` gives them) and the step records of those runs."""
    last = (runs or {}).get("last") or {}
    success = (runs or {}).get("success") or {}
    mine = records.get(last.get("id"), {})
    published = records.get(success.get("id"), {}).get("sync_metadata")
    retired = mine.get("retire")
    retirement = _stage(retired["summary"]) if retired else _planned(dataset, today)
    visibility = None
    if published:
        visibility = PUBLIC if published["summary"].get("public") else PRIVATE
    if retirement and retirement["stage"] == RETIRED:
        visibility = PRIVATE
    retrying = None
    if last.get("status") == "running":
        retrying = next(
            (
                {"step": step, **record["summary"]}
                for step, record in mine.items()
                if record["status"] == "retrying"
            ),
            None,
        )
    return PortalFacts(visibility, retirement, retrying)


def _stage(summary: dict[str, Any]) -> dict[str, Any] | None:
    if summary.get("stage") not in (MID_RETIREMENT, RETIRED):
        return None
    keys = ("stage", "notice_date", "removal_date", "retired_date")
    return {key: summary.get(key) for key in keys}


def _planned(dataset: DatasetSpec, today: dt.date) -> dict[str, Any] | None:
    """A spec's `retire:` block whose run has not been recorded yet: the stage it asks for."""
    retire = dataset.retire
    if retire is None:
        return None
    stage = stage_on(retire, today, None)
    if stage.status == SCHEDULED:
        return {"stage": SCHEDULED, "notice_date": stage.notice_date.isoformat(),
                "removal_date": stage.removal_date.isoformat(), "retired_date": None}  # fmt: skip
    return _stage({"stage": stage.status, "notice_date": stage.notice_date.isoformat(),
                   "removal_date": stage.removal_date.isoformat()})  # fmt: skip


def view_status(status: str, retirement: dict[str, Any] | None) -> str:
    """A retiring or retired dataset is no longer refreshed: its schedule says nothing."""
    if retirement and retirement["stage"] == MID_RETIREMENT:
        return RETIRING
    if retirement and retirement["stage"] == RETIRED:
        return RETIRED
    return status


def deidentification(dataset: DatasetSpec, prepared: dict[str, Any] | None) -> dict[str, Any]:
    """How a record-level dataset was de-identified: the spec's transforms, with the counts
    the run's protection step reported (records whose values were generalized, to protect
    small groups or the linked tables, and records left out)."""
    done: dict[str, Any] = {"pseudonymized": [], "dropped": [], "small_groups": None}
    for transform in dataset.transforms:
        if transform.kind == "pseudonymize":
            done["pseudonymized"].append(f"{transform.column} -> {transform.output}")
        elif transform.kind == "drop":
            done["dropped"] += list(transform.columns)
        elif transform.kind == "suppress_small_groups":
            done["small_groups"] = {
                "k": transform.k,
                "quasi_identifiers": list(transform.quasi_identifiers),
                "generalize": list(transform.generalize),
                "label": transform.label,
            }
    measured = (prepared or {}).get("small_groups")
    if measured and done["small_groups"] is not None:
        done["small_groups"].update(
            generalized=measured.get("generalized"),
            records_in=measured.get("records_in"),
            records_dropped=measured.get("records_dropped"),
        )
    return done


def access_plan(agency: AgencySpec, public_ids: set[str], today: dt.date) -> AccessPlanProgress:
    """The agency's access plan as the published Open Data Access Plans dataset counts it."""
    return progress(access_plan_items(agency, public_ids, today))
