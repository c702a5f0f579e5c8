"""The nightly job's steps, callable from the DAG, tests and the demo alike.

Each returns a small JSON-safe summary (a task's XCom) and logs what it did in words, for the
task log in the Airflow UI. Data goes to the metrics store and, for publication, to staged
Parquet read by the ordinary publishing path.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ctdata.metrics.config import MetricsConfig, load_metrics_config
from ctdata.metrics.scorecard import scorecard
from ctdata.metrics.store import MetricsStore
from ctdata.specs.models import AgencySpec

if TYPE_CHECKING:
    import pandas as pd

    from ctdata.portal.client import SocrataClient
    from ctdata.specs.models import DatasetSpec
    from ctdata.staging import Staging

log = logging.getLogger(__name__)


def registered_agencies() -> list[AgencySpec]:
    """Valid agency specs with the portal ids the pipeline recorded; an invalid spec is
    reported by the agency DAGs, not here."""
    from ctdata.lifecycle.registry import with_portal_ids
    from ctdata.specs import load_all

    return with_portal_ids(load_all().agencies)


def collect_snapshot(
    day: dt.date,
    client: SocrataClient,
    *,
    config: MetricsConfig | None = None,
    agencies: Sequence[AgencySpec] | None = None,
    store: MetricsStore | None = None,
) -> dict[str, Any]:
    """Collect the counters for `day` and store them (replacing any earlier run of that day)."""
    from ctdata.metrics.collect import collect

    config = config or load_metrics_config()
    agencies = registered_agencies() if agencies is None else list(agencies)
    store = store or MetricsStore()
    collection = collect(client, config, agencies, day)
    saved = store.save(collection)
    source = collection.source
    log.info(
        "Measured %d datasets for %s in %d requests to the portal; counters from %s.",
        saved.datasets,
        day.isoformat(),
        collection.requests,
        source.description,
    )
    if source.fallback:
        log.info("Why not site analytics: %s.", source.fallback)
    log.info(
        "Daily figures written for %s%s.",
        ", ".join(d.isoformat() for d in saved.daily_dates) or "no date",
        f" ({saved.filled_rows} rows filled for nights not measured)" if saved.filled_rows else "",
    )
    proposals = propose(day, store, agencies, config)
    return {
        **saved.as_dict(),
        "requests": collection.requests,
        "counters_from": source.description,
        "fallback": source.fallback,
        **proposals,
    }


def propose(
    day: dt.date, store: MetricsStore, agencies: Sequence[AgencySpec], config: MetricsConfig
) -> dict[str, int]:
    """Store the night's retirement candidates and late access plan items (ctdata.metrics.
    attention) for the report and the UI, and say how many there are."""
    from ctdata.metrics import attention
    from ctdata.specs.registers import load_registers_config

    registers = load_registers_config().agency()
    exclude = config.output_ids | {d.portal_id for d in registers.datasets}
    candidates, late = attention.record(
        store, day, agencies, rules=config.retirement_candidates, exclude=exclude
    )
    log.info(
        "Proposed for retirement: %s. Access plan items past their target date: %s.",
        "; ".join(f"{c.name} ({c.dataset_id}: {', '.join(c.reasons)})" for c in candidates)
        or "none",
        "; ".join(f"{i.title} ({i.agency}, {i.days_late} days late)" for i in late) or "none",
    )
    return {"retirement_candidates": len(candidates), "late_plan_items": len(late)}


def usage_frame(rows: Sequence[dict[str, Any]], dataset: DatasetSpec) -> pd.DataFrame:
    """Daily store rows as the usage dataset's columns."""
    import pandas as pd

    from ctdata.lifecycle.publication import conform

    records = [
        {
            **{k: r[k] for k in ("dataset_id", "agency", "freshness", "days_overdue")},
            "row_id": f"{r['dataset_id']}|{r['date'].isoformat()}",
            "dataset_name": r["name"],
            "date": pd.Timestamp(r["date"]),
            **{c: r[c] for c in _COUNTER_COLUMNS},
            "filled": bool(r["filled"]),
            "missing_metadata": "; ".join(r["missing_metadata"]),
        }
        for r in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=dataset.field_names)
    return conform(frame, dataset)


_COUNTER_COLUMNS = (
    "views",
    "downloads",
    "api_calls",
    "views_total",
    "downloads_total",
    "api_calls_total",
)


def scorecard_frame(day: dt.date, store: MetricsStore, dataset: DatasetSpec) -> pd.DataFrame:
    import pandas as pd

    from ctdata.lifecycle.publication import conform

    scores = scorecard(day, store.snapshot(day), store.daily([day]), registered_agencies())
    records = [{**s.as_row(), "date": pd.Timestamp(s.date)} for s in scores]
    return conform(pd.DataFrame.from_records(records, columns=dataset.field_names), dataset)


def publish_outputs(
    day: dt.date,
    dates: Sequence[str | dt.date],
    client: SocrataClient,
    run_id: str,
    *,
    config: MetricsConfig | None = None,
    store: MetricsStore | None = None,
    staging: Staging | None = None,
) -> dict[str, Any]:
    """Upsert the usage rows of `dates` and the day's scorecard through the publishing path,
    then bring both datasets' metadata in line with the config."""
    from ctdata.lifecycle.publication import publish_frame

    config = config or load_metrics_config()
    store = store or MetricsStore()
    agency = config.agency()
    wanted = sorted({d if isinstance(d, dt.date) else dt.date.fromisoformat(d) for d in dates})
    frames = {
        config.usage_dataset.slug: usage_frame(store.daily(wanted), config.usage_dataset),
        config.scorecard_dataset.slug: scorecard_frame(day, store, config.scorecard_dataset),
    }
    summary: dict[str, Any] = {}
    for dataset in agency.datasets:
        frame = frames[dataset.slug]
        summary[dataset.slug] = done = publish_frame(
            agency, dataset, frame, client, run_id, staging
        )
        log.info(
            "Published %s (%s): %d rows prepared, %s created, %s updated, %s unchanged; "
            "metadata fields changed: %s.",
            dataset.metadata.title,
            dataset.portal_id,
            len(frame),
            done["created"],
            done["updated"],
            done["unchanged"],
            ", ".join(done["metadata_changed"]) or "none",
        )
    return summary


def write_report(
    day: dt.date,
    *,
    config: MetricsConfig | None = None,
    store: MetricsStore | None = None,
    history_days: int = 90,
) -> dict[str, Any]:
    """Write the night's HTML report (and `usage-latest.html`) to the reports folder."""
    from ctdata.metrics import attention
    from ctdata.metrics.report import render_report

    config = config or load_metrics_config()
    store = store or MetricsStore()
    since = day - dt.timedelta(days=history_days - 1)
    rows = store.daily(since=since, until=day)
    snapshot = store.snapshot(day)
    scores = scorecard(day, snapshot, store.daily([day]), registered_agencies())
    page = render_report(
        day,
        rows,
        snapshot,
        scores,
        top=config.top_datasets,
        candidates=attention.read_candidates(store, day),
        late_items=attention.read_late_items(store, day),
    )
    folder = config.reports_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"usage-{day.isoformat()}.html"
    path.write_text(page, encoding="utf-8")
    (folder / "usage-latest.html").write_text(page, encoding="utf-8")
    log.info(
        "Usage report for %s (%d datasets, %d day(s) of history) written to %s and %s.",
        day.isoformat(),
        len(snapshot),
        len({r["date"] for r in rows}),
        path,
        folder / "usage-latest.html",
    )
    return {"path": str(path), "bytes": len(page.encode()), "datasets": len(snapshot)}
