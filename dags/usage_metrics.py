"""`usage_metrics`: the nightly measurement of every dataset on the portal (see ctdata.metrics).

Parse-time work is nothing but building three tasks; the portal client, pandas and the metrics
store load only when a task runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, get_current_context, task

from ctdata import settings
from ctdata.airflow.policies import START_DATE, default_args

DOC = """
# Nightly usage metrics

Every night at 02:00 Eastern this DAG

1. **collect**: reads the portal's catalog page by page (every dataset of every agency, not
   one request per dataset) and the cumulative views, downloads and API calls of every dataset
   from the portal's "Site Analytics: Asset Access" dataset in one grouped query (field names
   in `include/usage_metrics.yaml`). If that dataset is absent or not shared with the
   connection's account, the night's page views and downloads come from the catalog (API calls
   not measured) and the log says so once. Stores one snapshot per dataset for the run's date
   in the usage history and derives the day's figures from the previous snapshot. A rerun of a
   date replaces it; a missed night is filled from the next snapshot and flagged `filled`.
2. **publish**: upserts the *dataset usage* rows and the *agency scorecard* rows to their
   portal datasets (ids in `include/usage_metrics.yaml`) through the ordinary publishing path.
3. **digest**: e-mails each data officer and OPM one digest of their failing, overdue and
   soon-due datasets (SMTP connection `CTDATA_ALERT_SMTP_CONN_ID`, default `smtp_default`).
4. **report**: writes `usage-<date>.html` and `usage-latest.html` (charts and the freshness
   table, overdue first) to the reports folder.

The snapshot date is the local (Eastern) date of the run's data interval end, so clearing a
run measures and replaces that date.
"""

# The retry policy of every ctdata DAG: a portal refusal (4xx) fails at once, outages retry.
DEFAULT_ARGS = default_args("opm-data-team", timeout=dt.timedelta(hours=1))


def _snapshot_date() -> dt.date:
    """Local date of the data interval's end (a run without one, triggered by hand: now)."""
    from ctdata.airflow.runtime import run_date

    return run_date(get_current_context())


def _client() -> Any:
    from ctdata.airflow.hooks import SocrataHook
    from ctdata.metrics.config import load_metrics_config

    return SocrataHook(load_metrics_config().socrata_conn_id).get_client()


@task
def collect() -> dict[str, Any]:
    """Catalog + counters → one snapshot per dataset for the run's date."""
    from ctdata.metrics.job import collect_snapshot

    with _client() as client:
        return collect_snapshot(_snapshot_date(), client)


@task(pool=settings.current().socrata_pool)
def publish(collected: dict[str, Any]) -> dict[str, Any]:
    """Upsert the usage rows of the affected dates and the day's agency scorecard."""
    from ctdata.airflow.runtime import airflow_staging
    from ctdata.metrics.job import publish_outputs

    run_id = str(get_current_context()["run_id"])
    with _client() as client:
        return publish_outputs(
            _snapshot_date(), collected["daily_dates"], client, run_id, staging=airflow_staging()
        )


@task
def digest() -> dict[str, Any]:
    """One e-mail per recipient listing failing, overdue and soon-due datasets."""
    from ctdata.airflow.alerts import send_digests

    return send_digests()


@task
def report(collected: dict[str, Any]) -> dict[str, Any]:
    """The night's HTML report in the reports folder."""
    from ctdata.metrics.job import write_report

    return write_report(_snapshot_date())


with DAG(
    dag_id="usage_metrics",
    description="Nightly views, downloads, API calls, freshness and metadata completeness",
    schedule="0 2 * * *",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["ctdata", "metrics"],
    default_args=DEFAULT_ARGS,
    doc_md=DOC,
) as dag:
    collected = collect()
    publish(collected)
    report(collected)
    digest()
