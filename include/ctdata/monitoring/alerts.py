"""What alerts say and to whom: a step that failed for good, a run past its deadline, and the
nightly digest. Pure composition from the specs and the monitoring read models; sending is the
front door's job (ctdata.airflow.alerts, through Airflow's SMTP provider).

Bodies carry names, counts, times and links only: the failure reason comes from the ledger,
which keeps no data value (see ctdata.monitoring.reasons).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2

from ctdata import settings
from ctdata.monitoring import schedule
from ctdata.specs import AgencySpec, DatasetSpec

PREFIX = "[CT Open Data]"


@dataclass(frozen=True)
class Message:
    to: list[str]
    subject: str
    html: str


def recipients(agency: AgencySpec) -> list[str]:
    """The data officer, the agency's extra addresses and OPM's (the agency's or the global)."""
    opm = agency.alerts.opm or settings.current().alert_opm_email
    wanted = [agency.data_officer.email, *agency.alerts.to, *([opm] if opm else [])]
    return list(dict.fromkeys(a.lower() for a in wanted))


@cache
def _templates() -> jinja2.Environment:
    loader = jinja2.PackageLoader("ctdata.monitoring", "templates")
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["local"] = lambda value: schedule.local_time(_as_time(value))
    return env


def _as_time(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def portal_standing(row: dict[str, Any]) -> str:
    """Is the portal copy out of date? In words, with the time of the last good publish."""
    publish = row.get("last_publish")
    if not publish:
        return "The dataset has never been published: the portal holds no copy from the pipeline."
    when = schedule.local_time(_as_time(publish["finished"]))
    if row["status"] == schedule.OVERDUE or _due_now(row):
        return f"The portal copy is OUT OF DATE: its last good publish was {when}."
    if not row.get("next_due"):  # "As needed" and other frequencies without a schedule
        return f"The portal still holds the last good publish of {when}; it has no schedule."
    return (
        f"The portal still holds the last good publish of {when}; "
        f"the next is due {row['next_due_local']}."
    )


def _due_now(row: dict[str, Any]) -> bool:
    due = _as_time(row.get("next_due"))
    return due is not None and due <= dt.datetime.now(dt.UTC)


def failure_message(
    agency: AgencySpec,
    dataset: DatasetSpec | None,
    *,
    step: str,
    reason: str,
    row: dict[str, Any] | None,
    log_url: str,
    page_url: str | None,
    run_id: str,
) -> Message:
    """One task that failed for good (after its retries)."""
    what = dataset.metadata.title if dataset else agency.dag_id
    subject = f"{PREFIX} FAILED: {what} ({agency.code}) at {step}"
    html = (
        _templates()
        .get_template("failure.html")
        .render(
            agency=agency,
            dataset=dataset,
            step=step,
            reason=reason,
            standing=portal_standing(row) if row else None,
            log_url=log_url,
            page_url=page_url,
            run_id=run_id,
            portal=settings.current().portal_url,
        )
    )
    return Message(recipients(agency), subject, html)


def deadline_message(
    agency: AgencySpec, *, run_id: str, deadline: Any, rows: list[dict[str, Any]], run_url: str
) -> Message:
    """A run of the agency's DAG that has not finished by its deadline."""
    subject = f"{PREFIX} LATE: {agency.dag_id} has not finished by its deadline"
    html = (
        _templates()
        .get_template("deadline.html")
        .render(agency=agency, run_id=run_id, deadline=deadline, rows=rows, run_url=run_url)
    )
    return Message(recipients(agency), subject, html)


DIGEST_STATUSES = (schedule.FAILING, schedule.OVERDUE)


def digest_messages(
    rows: list[dict[str, Any]],
    agencies: list[AgencySpec],
    *,
    now: dt.datetime,
    page_url: str,
) -> list[Message]:
    """One message per recipient listing the failing, overdue and soon-due datasets of every
    agency they hear about; nobody gets an empty digest."""
    by_agency = {a.code: a for a in agencies}
    soon = now + schedule.SOON
    wanted: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        due = _as_time(row.get("next_due"))
        section = row["status"] if row["status"] in DIGEST_STATUSES else None
        if section is None and due is not None and now <= due <= soon:
            section = "due soon"
        if section is None or row["agency"] not in by_agency:
            continue
        for address in recipients(by_agency[row["agency"]]):
            wanted.setdefault(address, []).append({**row, "section": section})
    template = _templates().get_template("digest.html")
    day = schedule.local_time(now)[:10]
    messages = []
    for address, listed in sorted(wanted.items()):
        counts = {s: sum(r["section"] == s for r in listed) for s in (*DIGEST_STATUSES, "due soon")}
        subject = (
            f"{PREFIX} Daily digest {day}: {counts['failing']} failing, "
            f"{counts['overdue']} overdue, {counts['due soon']} due soon"
        )
        html = template.render(rows=listed, counts=counts, day=day, page_url=page_url)
        messages.append(Message([address], subject, html))
    return messages
