"""The steps of one dataset's publication, each `step(run, **inputs)` with the `DatasetRun` a
front door built and the results of the steps it declares as inputs (`ctdata.pipeline.flow`).

Each step returns a small JSON-safe summary (in Airflow, the task's XCom); data itself stays as
Parquet in the staging area. Steps log what they did in words a data officer understands. They
never write the monitoring ledger themselves: the front door records each step's outcome
through the run, so a step runs the same in a task, in a test and from the command line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ctdata import settings
from ctdata.errors import SourceError

if TYPE_CHECKING:
    import pandas as pd

    from ctdata.pipeline.run import AgencyRun, DatasetRun
    from ctdata.specs import DatasetSpec

log = logging.getLogger(__name__)

Summary = dict[str, Any]


def extract(run: DatasetRun) -> Summary:
    """Check the dataset can be published (metadata, suites, connection: before any work), query
    the source, apply the spec's transforms, stage the result: batch by batch, so the memory it
    takes is a batch's, however long the table."""
    from ctdata.pipeline.protection import declared_types
    from ctdata.preflight import require_dataset_ready
    from ctdata.sources.extract import batches

    dataset, staging = run.dataset, run.staging
    expectations = settings.current().expectations_dir
    require_dataset_ready(run.agency, dataset, expectations, run.connections)
    read = _transformed(batches(dataset, connections=run.connections), dataset)
    where = staging.path(run.agency.code, run.slug, run.run_id, "source")
    label, types = f"dataset {run.slug!r} (extract)", declared_types(dataset)
    staged = staging.write_batches(read, where, label=label, types=types)
    result = {"path": staged.path, "rows": staged.rows, "columns": staged.columns}
    log.info(
        "Extracted %s rows (%s columns) from the %s source; staged at %s.",
        f"{result['rows']:,}", len(result["columns"]), dataset.source.kind, staged.path,
    )  # fmt: skip
    return result


def _transformed(read: Iterator[pd.DataFrame], dataset: DatasetSpec) -> Iterator[pd.DataFrame]:
    """The spec's row-level transforms on each batch; a source with no rows has them checked
    on an empty table (a transform naming a column it lacks still fails)."""
    import pandas as pd

    from ctdata.transforms import apply_transforms

    empty = True
    for frame in read:
        empty = False
        yield apply_transforms(frame, dataset)
    if empty:
        yield apply_transforms(pd.DataFrame(), dataset)


def validate_source(run: DatasetRun, extracted: Summary) -> Summary:
    """The spec's source suites on the extract, before anything is derived from it."""
    return _validate(run, extracted, "source", run.dataset.expectations.source)


def validate_publishable(run: DatasetRun, prepared: Summary) -> Summary:
    """The spec's publishable suites (the privacy gate among them) on the table to publish."""
    return _validate(run, prepared, "publishable", run.dataset.expectations.publishable)


def _validate(run: DatasetRun, staged: Summary, stage: str, suites: list[str]) -> Summary:
    """Run the named GX suites on a staged frame, keep each suite's result and Data Docs page
    (see ctdata.validation.archive) under the run, and raise ValidationFailed (nothing
    published) on failure. Run-time values reach the suites as GX suite parameters:
    `suppression_spec`, for datasets with an aggregation. Results are written through the
    staging area's `open_path` (Airflow's ObjectStoragePath in tasks), as the run reads them."""
    from ctdata.validation import ResultArchive, RunStage, run_suites

    dataset = run.dataset
    parameters: dict[str, Any] = {}
    if dataset.aggregation is not None:
        parameters["suppression_spec"] = dataset.aggregation.to_suppression_spec()
    if stage == "publishable":
        from ctdata.pipeline.protection import population_audit

        parameters["population_audit"] = population_audit(run, staged)
    summary = run_suites(
        lambda: run.staging.iter_frames(staged["path"]),  # batch by batch: see run_suites
        suites,
        dataset=f"{dataset.slug} ({stage})",
        parameters=parameters,
        keep_at=RunStage(run.agency.code, dataset.slug, run.run_id, stage),
        store=ResultArchive(open_path=run.staging.open_path),
    )
    summary.raise_for_failure()
    return summary.as_dict()


def protect_population(run: AgencyRun, extracted: dict[str, Summary | None]) -> Summary:
    """Protect the new tables of a population of several datasets together, with every
    release the population made before (`ctdata.pipeline.protection`): each member's
    publishable table and release staged, their summaries by slug. A member not due in this
    run (its extract skipped) is read by the attacker as its last release."""
    from ctdata.pipeline.protection import protect_and_stage, source_table

    agency = run.agency
    frames = {slug: source_table(run.staging, agency.dataset(slug), s["path"])
              for slug, s in extracted.items() if s}  # fmt: skip
    if not frames:
        log.info("No dataset of the population is due in this run: nothing to protect.")
        return {}
    protected = protect_and_stage(run, frames)
    for slug, summary in protected.items():
        log.info("%s: %s.", slug, _protection_words(summary))
    return protected


def aggregate_and_suppress(
    run: DatasetRun, extracted: Summary, protected: Summary | None = None
) -> Summary:
    """Count records over the declared dimensions with every margin and suppress: small
    cells, their complements and the cells earlier releases keep hidden, until the attacker's
    LP audit over everything published finds nothing; stage the publishable table. With
    `protected` (a population's joint protection) take this dataset's part of it."""
    if run.dataset.aggregation is None:
        raise SourceError(f"dataset {run.slug!r} declares no aggregation")
    return _protected(run, extracted, protected)


def prepare_records(
    run: DatasetRun, extracted: Summary, protected: Summary | None = None
) -> Summary:
    """For datasets published row by row: the spec's columns, typed as the portal types them,
    generalized by its `suppress_small_groups` rule with its population and history."""
    return _protected(run, extracted, protected)


def _protected(run: DatasetRun, extracted: Summary, protected: Summary | None) -> Summary:
    from ctdata.pipeline.protection import (
        protect_and_stage,
        source_table,
        stage_as_is,
        streams_as_is,
    )

    if protected is None and streams_as_is(run.dataset):
        summary = stage_as_is(run, extracted)
    elif protected is None:
        table = source_table(run.staging, run.dataset, extracted["path"])
        summary = protect_and_stage(run, {run.slug: table})[run.slug]
    elif run.slug in protected:
        summary = protected[run.slug]
    else:
        raise SourceError(f"the protection of {run.slug!r}'s population did not cover it")
    log.info("%s; staged at %s.", _protection_words(summary), summary["path"])
    return summary


def _protection_words(summary: Summary) -> str:
    if "primary" in summary:
        words = (
            f"{summary['rows']:,} cells; suppressed {summary['cells_suppressed']} "
            f"({summary['primary']} primary, {summary.get('sticky', 0)} kept from earlier "
            f"releases, {summary['complementary']} complementary)"
        )
    else:
        generalized = sum(v for k, v in summary.items() if k.startswith("records_generalized"))
        words = f"{summary['rows']:,} records; {generalized} generalized"
        if "records_removed" in summary:
            words += f", {summary['records_removed']} left out"
    audit = summary.get("joint_audit")
    return f"{words}; {audit}" if audit else words


ONBOARDED = {
    "pinned": "Dataset %s is pinned in the spec (%s).",
    "registered": "Dataset %s was created by an earlier run; its id is in the state store (%s).",
    "found": "Dataset %s, made by an earlier attempt whose answer was lost, is now recorded (%s).",
    "created": "Created dataset %s on the portal, private, with the spec's columns, row "
    "identifier and metadata; its id is recorded in the state store (%s).",
}


def onboard(run: DatasetRun) -> Summary:
    """Make sure the dataset is on the portal: one the spec pins no id for is created (private,
    with the spec's columns, row identifier and metadata) once, and its id recorded. The run's
    portal id is settled here; every later step reads it from the run."""
    from ctdata.lifecycle.onboarding import ensure_dataset
    from ctdata.lifecycle.portal_metadata import view_metadata

    if run.dry_run:
        if run.portal_id is None:
            log.info("Dry run: the dataset is not on the portal yet; a real run would create it "
                     "(private) and record its id. Nothing was created.")  # fmt: skip
        else:
            log.info("Dry run: the dataset is %s on the portal.", run.portal_id)
        return {"portal_id": run.portal_id, "how": "dry run", "dry_run": True}
    agency, dataset = run.agency, run.dataset
    view = view_metadata(agency, dataset)
    done = ensure_dataset(agency.code, dataset, run.portal, view, run.registry)
    run.settle_portal_id(done.portal_id)
    link = f"{settings.current().portal_url}/d/{done.portal_id}"
    log.info(ONBOARDED[done.how], done.portal_id, link)
    return {"portal_id": done.portal_id, "how": done.how}


def publish(run: DatasetRun, prepared: Summary) -> Summary:
    """Send only what changed since the last publish (`ctdata.lifecycle.publication`); in a
    dry run, log what publishing would change instead and send nothing."""
    from ctdata.lifecycle.publication import publish_table

    if run.dry_run:
        plan = publication_plan(run, prepared)
        log.info("Dry run: nothing was sent. Publishing would do:\n%s",
                 plan.describe(settings.current().portal_url))  # fmt: skip
        return {"dry_run": True, **plan.as_dict()}
    from ctdata.pipeline.protection import record_release, release_published

    if "release" in prepared:  # recorded before anything is sent: it may be public from now on
        record_release(run, prepared)
    result = publish_table(
        run.agency, run.dataset, run.require_portal_id(), prepared["path"], run.portal,
        run.staging, state=run.publishing_state, registry=run.registry,
    )  # fmt: skip
    if "release" in prepared:
        release_published(run, prepared)
    log.info(
        "Published to %s: %s created, %s changed, %s deleted, %s unchanged; %s bytes sent.",
        result["dataset_id"], result["created"], result["updated"], result["deleted"],
        result["unchanged"], f"{result['bytes_sent']:,}",
    )  # fmt: skip
    return result


def sync_metadata(run: DatasetRun, published: Summary | None = None) -> Summary:
    """The portal's metadata, data dictionary and visibility in line with the spec, with the
    temporal coverage `publish` derived from the data (for a spec saying 'auto')."""
    from ctdata.lifecycle.publication import sync_metadata as sync

    if run.dry_run:
        return skipped_in_dry_run("writing metadata and visibility")
    coverage = (published or {}).get("temporal_coverage")
    result = sync(
        run.agency, run.dataset, run.require_portal_id(), run.portal, temporal_coverage=coverage
    )
    log.info(
        "Metadata of %s: changed %s; temporal coverage %s; data dictionary %s; public: %s.",
        result["portal_id"], ", ".join(result["changed_fields"]) or "nothing",
        result["temporal_coverage"], result["data_dictionary"], result["public"],
    )  # fmt: skip
    return result


def publication_plan(run: DatasetRun, prepared: Summary) -> Any:
    """What publishing the staged publishable table would change on the portal (rows,
    metadata, temporal coverage derived from the table included, columns, creation, review),
    sending nothing and recording nothing. Substandard metadata is refused as `publish` would."""
    from ctdata.lifecycle.columns import ColumnChanges, portal_signature, spec_signature
    from ctdata.lifecycle.plan import DatasetPlan, metadata_field_changes
    from ctdata.lifecycle.plan_rows import new_dataset_rows, row_changes
    from ctdata.lifecycle.portal_metadata import view_metadata
    from ctdata.lifecycle.publication import coverage_to_show, data_facts
    from ctdata.lifecycle.review import review_need
    from ctdata.specs.lint import require_standard_metadata

    agency, dataset, portal_id = run.agency, run.dataset, run.portal_id
    require_standard_metadata(agency, dataset)  # publish would refuse it
    path = run.staging.open_path(prepared["path"])
    common = {"agency": agency.code, "slug": dataset.slug, "title": dataset.metadata.title}
    if portal_id is None:
        review = ["first publication"] if dataset.public else []
        return DatasetPlan(**common, portal_id=None, rows=new_dataset_rows(path), review=review)
    view = run.portal.get_metadata(portal_id)
    columns = ColumnChanges.between(portal_signature(view), spec_signature(dataset))
    derived = data_facts(dataset, prepared["path"], run.staging).get("temporal_coverage")
    wanted = view_metadata(
        agency, dataset, temporal_coverage=coverage_to_show(dataset, view, derived)
    )
    return DatasetPlan(
        **common,
        portal_id=portal_id,
        rows=row_changes(run.portal, portal_id, path, dataset, columns, run.publishing_state),
        metadata=metadata_field_changes(view, wanted),
        columns=columns,
        review=review_need(agency.code, dataset, view, run.registry).reasons,
    )


def is_due(run: DatasetRun) -> bool:
    """On scheduled runs, go on only when the dataset's own schedule has fired since its last
    successful publish (the agency DAG runs at its most frequent dataset's pace); raise
    NotDue otherwise, so the dataset's steps are skipped. The last successful publish is the
    monitoring ledger's latest successful run (its metadata synced too): a run that sent the
    rows but failed after is made up at the next run, as the view shows it failing."""
    from ctdata.clock import dataset_is_due
    from ctdata.pipeline.run import NotDue

    dataset = run.dataset
    if run.scheduled_for is None:
        log.info("Manual run: %s is published whatever its schedule.", dataset.slug)
        return True
    last = run.ledger.last_success(run.ledger_key)  # as the Open Data view's next due reads it
    schedule = dataset.effective_schedule
    due = dataset_is_due(schedule, scheduled=True, at=run.scheduled_for, last_success=last)
    log.info(
        "%s (%s, schedule %s): last successful publish %s; %s.",
        dataset.slug, dataset.metadata.update_frequency, schedule or "none",
        last.isoformat() if last else "never", "due now" if due else "not due in this run, skipped",
    )  # fmt: skip
    if not due:  # its steps are skipped; the teardowns still run
        raise NotDue(f"{dataset.slug} is not due in this run")
    return True


def finish_run(run: DatasetRun, published: Summary | None = None) -> Summary:
    """The dataset's teardown, run whatever happened before it (it never turns a failed run
    green): clean the staging area, then close the run in the monitoring ledger and append it
    to the portal's run-log dataset, a failed run too. `published` is the publish step's
    result, None when it did not publish. One task rather than two: each task costs parse time,
    paid for every dataset of the state on every parse."""
    try:
        cleaned = clean_staging(run, published=published is not None)
    finally:
        logged = close_run(run)
    return {**cleaned, **logged}


def clean_staging(run: DatasetRun, *, published: bool) -> Summary:
    """Raw extracts do not outlive the run: delete the run's staged files once it has published;
    after a failure keep them (for debugging) until `sweep_staging` removes them."""
    staging = run.staging
    if published:
        removed = staging.remove_run(run.agency.code, run.slug, run.run_id)
        log.info("Published: staged files of this run %s.", "deleted" if removed else "were gone")
    else:
        log.warning(
            "Not published: staged files kept for %s days for debugging at %s.",
            settings.current().staging_keep_failed_days,
            staging.run_dir(run.agency.code, run.slug, run.run_id),
        )
    return {"published": published}


def close_run(run: DatasetRun) -> Summary:
    """The run as the ledger holds it, appended to the portal's run-log dataset."""
    from ctdata.monitoring.run_log import append_run

    closed = run.close_ledger()
    if closed is None:
        log.info("No step of %s ran in this run: nothing to log.", run.slug)
        return {"logged": False}
    closed.pop("steps", None)
    target = settings.current().run_log_dataset_id
    if not target:
        log.info("No run-log dataset configured (CTDATA_RUN_LOG_DATASET_ID): not logged.")
        return {"logged": False, "status": closed["status"]}
    append_run(run.portal, closed)
    log.info("Run of %s %s; row written to the run-log dataset %s.",
             run.slug, closed["status"], target)  # fmt: skip
    return {"logged": True, "status": closed["status"], "run_log": target}


def sweep_staging(run: AgencyRun) -> list[str]:
    """Delete staged files of this agency's runs older than the debugging window."""
    import datetime as dt

    days = settings.current().staging_keep_failed_days
    removed = run.staging.sweep(run.agency.code, dt.timedelta(days=days))
    log.info("Removed %s staged run folder(s) older than %s days.", len(removed), days)
    return removed


def skipped_in_dry_run(what: str) -> Summary:
    log.info("Dry run: %s skipped; see the publish task's log for the plan.", what)
    return {"dry_run": True}
