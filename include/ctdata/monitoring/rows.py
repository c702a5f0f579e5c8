"""Pieces of the view's rows: an agency's summary, a publish's figures, OPM's own datasets
(whose standing comes from the nightly measurement: OPM's DAGs publish them, not an agency
run), and the "needs OPM" queue: what waits for someone, and who."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ctdata.metrics.store import COUNTERS
from ctdata.monitoring import facts, schedule
from ctdata.monitoring.catalog import PROGRAM
from ctdata.specs import AgencySpec

# The nightly measurement's freshness, as the view's status of OPM's own datasets.
FRESHNESS_STATUS = {"on time": schedule.ON_TIME, "overdue": schedule.OVERDUE}
OPM = "OPM (the Office of Policy and Management)"


def agency_row(
    code: str, spec: AgencySpec | None, datasets: list[dict[str, Any]], today: dt.date
) -> dict[str, Any]:
    counts = {s: sum(d["status"] == s for d in datasets) for s in schedule.STATUS_ORDER}
    measured = [d for d in datasets if d["missing_metadata"] is not None]
    public = {d["portal_id"] for d in datasets if d["visibility"] == facts.PUBLIC}
    planned = spec is not None and spec.code != PROGRAM  # OPM's own datasets: no access plan
    plan = facts.access_plan(spec, public, today) if planned else None
    return {
        "agency": code,
        "name": spec.name if spec else code,
        "datasets": len(datasets),
        "on_time": counts[schedule.ON_TIME],
        "overdue": counts[schedule.OVERDUE],
        "failing": counts[schedule.FAILING],
        "never_run": counts[schedule.NEVER_RUN],
        "usage_30d": {c: sum(d["usage_30d"][c] for d in datasets) for c in COUNTERS},
        "metadata_complete": share(sum(not d["missing_metadata"] for d in measured), len(measured)),
        "access_plan": (
            {"published": plan.published, "items": plan.items, "late": plan.late} if plan else None
        ),
    }


def publish_figures(run: dict[str, Any] | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "finished": iso(run.get("finished")),
        "finished_local": schedule.local_time(run.get("finished")),
        **{k: run.get(k) for k in ("created", "updated", "deleted", "bytes_sent")},
    }


def program_standing(measured: dict[str, Any] | None) -> dict[str, Any]:
    """Status and last update of one of OPM's own datasets, from the latest measurement."""
    if measured is None:
        return {"status": schedule.NEVER_RUN, "last_publish": None}
    updated = measured.get("last_update")
    return {
        "status": FRESHNESS_STATUS.get(measured["freshness"], schedule.NOT_SCHEDULED),
        "last_publish": {
            "finished": updated.isoformat() if updated else None,
            "finished_local": f"{updated} (the portal's last update)" if updated else "-",
            **dict.fromkeys(("created", "updated", "deleted", "bytes_sent")),
        },
    }


def queue(
    rows: list[dict[str, Any]],
    agencies: dict[str, AgencySpec],
    attention: dict[str, list[dict[str, Any]]],
    reviews: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """One list of what waits for someone: reviews to decide, failing and overdue datasets,
    access plan items past their target date, datasets proposed for retirement; each with who
    must act and where to do it. `rows` and `reviews` are those the user may see."""
    by_name = {a.name: a for a in agencies.values()}
    visible = {r["agency"] for r in rows}
    items = [
        {"kind": "review", "agency": r["agency"], "what": r["title"], "detail": r["detail"],
         "who": r.get("who") or OPM, "link": r["link"], "link_text": "decide"}
        for r in reviews
    ]  # fmt: skip
    for row in rows:
        if row["status"] in (schedule.FAILING, schedule.OVERDUE):
            run = row.get("last_run") or {}
            items.append({
                "kind": row["status"], "agency": row["agency"], "what": row["title"],
                "detail": (run.get("reason") or "").split("\n", 1)[0] if row["status"] ==
                schedule.FAILING else f"due {row['next_due_local']}",
                "who": officer(agencies.get(row["agency"])), "key": row["key"],
                "link": None, "link_text": "open",
            })  # fmt: skip
    for item in attention.get("late_plan_items", []):
        spec = by_name.get(item["agency"])
        if spec is not None and spec.code in visible:
            items.append({
                "kind": "late plan item", "agency": spec.code, "what": item["title"],
                "detail": f"target date {item['target_date']}, {item['days_late']} days late",
                "who": officer(spec), "link": None, "link_text": None,
            })  # fmt: skip
    keys = {r["portal_id"]: r["key"] for r in rows if r["portal_id"]}
    for item in attention.get("retirement_candidates", []):
        spec = by_name.get(item["agency"])
        if spec is not None and spec.code in visible:
            items.append({
                "kind": "retirement candidate", "agency": spec.code, "what": item["name"],
                "detail": "; ".join(item["reasons"]) + f" ({item['details']})",
                "who": f"{officer(spec)}, with OPM", "key": keys.get(item["dataset_id"]),
                "link": None, "link_text": "open",
            })  # fmt: skip
    return items


def officer(spec: AgencySpec | None) -> str:
    if spec is None:
        return "the agency's data officer"
    return f"{spec.data_officer.name} <{spec.data_officer.email}>"


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
