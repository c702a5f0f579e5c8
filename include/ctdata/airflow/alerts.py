"""Alerts through Airflow's notifiers and the SMTP provider (connection
`CTDATA_ALERT_SMTP_CONN_ID`, default `smtp_default`).

- `FailureNotifier`: every agency task's `on_failure_callback`; Airflow calls it once a task
  has failed for good (after its retries), and it sends one message to the data officer and
  OPM with the reason the ledger holds (never a data value), links to the log and the dataset
  page, and whether the portal copy is out of date.
- `DeadlineNotifier`: the agency DAG's deadline alert (see `deadline_alert`), run by the
  triggerer when a run has not finished within the allowance its datasets' update frequency
  gives, even when nothing failed.
- `send_digests`: the nightly digest, one message per recipient.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier

from ctdata import settings
from ctdata.airflow.runtime import agency_spec
from ctdata.airflow.urls import URL_PREFIX, airflow_url, dataset_page_url, links

if TYPE_CHECKING:
    from airflow.sdk.definitions.deadline import DeadlineAlert

    from ctdata.monitoring.alerts import Message
    from ctdata.specs import AgencySpec

log = logging.getLogger(__name__)


def _smtp_hook() -> Any:
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    return SmtpHook(smtp_conn_id=settings.current().alert_smtp_conn_id)


def _redacted(text: str) -> str:
    """Airflow's secrets masker over the whole body: a connection password, a variable marked
    secret or anything a task masked never leaves in an e-mail."""
    try:
        from airflow.sdk.log import redact
    except ImportError:  # pragma: no cover - older task SDK layout
        return text
    return str(redact(text))


def _email(message: Message) -> dict[str, Any]:
    return {
        "to": message.to,
        "from_email": settings.current().alert_from_email,
        "subject": _redacted(message.subject),
        "html_content": _redacted(message.html),
    }


def smtp_configured() -> bool:
    """Is the alerts' SMTP connection defined? Without one, alerts are logged, not sent: a
    missing mail setup must not fail a publication."""
    from airflow.sdk import BaseHook

    conn_id = settings.current().alert_smtp_conn_id
    try:
        BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - AirflowNotFoundException and its relatives
        log.warning("No SMTP connection %r: alert e-mail is not sent.", conn_id)
        return False
    return True


def send(message: Message) -> None:
    if not smtp_configured():
        log.warning("Not sent: %r to %s.", message.subject, ", ".join(message.to))
        return
    with _smtp_hook() as hook:
        hook.send_email_smtp(**_email(message))
    log.info("Sent %r to %s.", message.subject, ", ".join(message.to))


async def asend(message: Message) -> None:
    async with _smtp_hook() as hook:
        await hook.asend_email_smtp(**_email(message))
    log.info("Sent %r to %s.", message.subject, ", ".join(message.to))


def _dataset_row(portal_id: str) -> dict[str, Any] | None:
    from ctdata.monitoring.views import OpenDataViews

    views = OpenDataViews(links=links())
    try:
        return views.dataset(portal_id)
    finally:
        views.dispose()


class FailureNotifier(BaseNotifier):
    """One message when an agency task fails for good."""

    def __init__(self, agency_code: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.agency_code = agency_code

    def notify(self, context: Any) -> None:
        send(self.message(context))

    def message(self, context: Any) -> Message:
        from ctdata.lifecycle.registry import dataset_key, with_portal_ids
        from ctdata.monitoring.alerts import failure_message
        from ctdata.monitoring.reasons import failure_reason

        ti = context["ti"]
        [agency] = with_portal_ids([agency_spec(self.agency_code)])
        slug, _, step = str(ti.task_id).rpartition(".")
        dataset = next((d for d in agency.datasets if d.slug == slug), None)
        key = dataset_key(agency.code, dataset) if dataset else None
        row = _dataset_row(key) if key else None
        recorded = (row or {}).get("last_run_detail") or {}
        if recorded.get("run_id") == context["run_id"] and recorded.get("reason"):
            reason = recorded["reason"]
        else:
            error = context.get("exception")
            reason = failure_reason(error) if error else "The task failed; see its log."
        return failure_message(
            agency,
            dataset,
            step=step,
            reason=reason,
            row=row,
            log_url=ti.log_url,
            page_url=dataset_page_url(key) if key else None,
            run_id=str(context["run_id"]),
        )


class DeadlineNotifier(BaseNotifier):
    """Run by the triggerer when an agency DAG run misses its deadline."""

    def __init__(self, agency_code: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.agency_code = agency_code

    async def async_notify(self, context: Any) -> None:
        message = await asyncio.to_thread(self.message, context)
        await asend(message)

    def notify(self, context: Any) -> None:
        send(self.message(context))

    def message(self, context: Any) -> Message:
        from ctdata.monitoring.alerts import deadline_message
        from ctdata.monitoring.views import OpenDataViews

        agency = agency_spec(self.agency_code)
        dag_run = context.get("dag_run") or {}
        run_id = str(dag_run.get("dag_run_id") or dag_run.get("run_id") or "")
        views = OpenDataViews(links=links())
        try:
            rows = views.datasets(allowed={agency.code})
        finally:
            views.dispose()
        deadline = (context.get("deadline") or {}).get("deadline_time")
        run_url = f"{airflow_url()}/dags/{agency.dag_id}/runs/{run_id}"
        return deadline_message(
            agency, run_id=run_id, deadline=deadline, rows=rows, run_url=run_url
        )


def deadline_allowance(agency: AgencySpec) -> dt.timedelta:
    """The run's allowance: that of the dataset setting the agency's pace (its most frequent)."""
    from ctdata.monitoring.schedule import allowance

    return min(allowance(d.metadata.update_frequency) for d in agency.datasets)


def under_dags_test() -> bool:
    """Is this the `airflow dags test` command? Airflow 3.3's `dags test` ends a successful run
    of a DAG with deadline alerts in a crash (apache/airflow#73428, fix pending), and it never
    evaluates deadlines anyway, so DAGs parsed for it carry none."""
    return sys.argv[1:3] == ["dags", "test"]


def deadline_alert(agency: AgencySpec) -> DeadlineAlert | None:
    """Alert when a run of the agency's DAG is still going `allowance` after it was queued."""
    if under_dags_test():
        return None
    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=deadline_allowance(agency),
        callback=AsyncCallback(DeadlineNotifier, kwargs={"agency_code": agency.code}),
        name=f"{agency.dag_id} late",
    )


def send_digests(now: dt.datetime | None = None) -> dict[str, Any]:
    """The nightly digest: one message per recipient with failing, overdue and soon-due
    datasets; nobody with nothing to hear of gets mail."""
    from ctdata.monitoring.alerts import digest_messages
    from ctdata.monitoring.catalog import load_catalog
    from ctdata.monitoring.views import OpenDataViews

    now = now or dt.datetime.now(dt.UTC)
    views = OpenDataViews(links=links())
    try:
        rows = views.datasets(now=now)
    finally:
        views.dispose()
    messages = digest_messages(
        rows, load_catalog().agencies, now=now, page_url=f"{airflow_url()}{URL_PREFIX}/"
    )
    if messages and not smtp_configured():
        return {"sent": 0, "recipients": [m.to[0] for m in messages]}
    for message in messages:
        send(message)
    return {"sent": len(messages), "recipients": [m.to[0] for m in messages]}
