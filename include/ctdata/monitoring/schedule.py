"""When a dataset is due, and how late a publish may be before it counts as overdue.

A dataset's schedule (cron, on Connecticut's wall clock) fires; the publish it asks for has an
allowance to finish, derived from the update frequency (a daily dataset has hours, an annual
one days). The same allowance sets each agency DAG's deadline alert, so the Open Data view's
"overdue" and the alert e-mail agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ctdata.clock import STATE_TIMEZONE, local_time, next_tick, previous_tick  # noqa: F401 - the view's readers use them here

ON_TIME, OVERDUE, FAILING, NOT_SCHEDULED, NEVER_RUN = (
    "on time",
    "overdue",
    "failing",
    "not scheduled",
    "never run",
)
# What needs attention first.
STATUS_ORDER = (FAILING, OVERDUE, NEVER_RUN, ON_TIME, NOT_SCHEDULED)

ALLOWANCE_BY_FREQUENCY: dict[str, dt.timedelta] = {
    "Daily": dt.timedelta(hours=6),
    "Every weekday": dt.timedelta(hours=6),
    "Weekly": dt.timedelta(hours=12),
    "Bi-weekly": dt.timedelta(days=1),
    "Monthly": dt.timedelta(days=1),
    "Bi-monthly": dt.timedelta(days=2),
    "Quarterly": dt.timedelta(days=2),
    "Bi-annually": dt.timedelta(days=3),
    "Annually": dt.timedelta(days=3),
}
DEFAULT_ALLOWANCE = dt.timedelta(hours=6)
SOON = dt.timedelta(days=2)  # the digest lists datasets due within this window


def allowance(update_frequency: str | None) -> dt.timedelta:
    """How long after its due time a publish may take before it is overdue."""
    return ALLOWANCE_BY_FREQUENCY.get(update_frequency or "", DEFAULT_ALLOWANCE)


@dataclass(frozen=True)
class Due:
    """A dataset's standing: `next_due` is when its next publish is due (in the past when it
    is late), `status` one of STATUS_ORDER."""

    status: str
    next_due: dt.datetime | None
    overdue_since: dt.datetime | None = None


def standing(
    cron: str | None,
    update_frequency: str | None,
    *,
    last_success: dt.datetime | None,
    last_status: str | None,
    now: dt.datetime,
) -> Due:
    """Failing when the latest run failed; otherwise due at the first tick after the last
    successful publish and overdue once that tick plus the allowance has passed."""
    next_due = None
    if cron is not None:
        minute = now.replace(second=0, microsecond=0)
        next_due = next_tick(cron, last_success) if last_success else previous_tick(cron, minute)
    if last_status == "failed":
        return Due(FAILING, next_due)
    if cron is None:
        return Due(NOT_SCHEDULED if last_success else NEVER_RUN, None)
    assert next_due is not None
    late_at = next_due + allowance(update_frequency)
    if now > late_at:
        return Due(OVERDUE, next_due, late_at)
    if last_success is None:
        return Due(NEVER_RUN, next_due)
    return Due(ON_TIME, next_due)
