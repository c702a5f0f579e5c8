"""The steps of one dataset's publication, each reading and writing staged Parquet.

Each step returns a small JSON-safe summary (it becomes the task's XCom); data itself stays in
the staging area. Steps take the spec objects, so they run the same inside Airflow, in tests
and from the command line.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ctdata.connections import ConnectionLookup, environment_connection
from ctdata.errors import SourceError
from ctdata.lifecycle.registry import DatasetRegistry, require_portal_id, resolve_portal_id
from ctdata.pipeline import data_dictionary
from ctdata.pipeline.conform import conform as conform  # the publishable table's shape
from ctdata.pipeline.coverage import coverage_of_parquet, is_auto, merged_with_portal
from ctdata.pipeline.portal_metadata import metadata_changes, shown_custom_field, view_metadata
from ctdata.specs.lint import require_standard_metadata
from ctdata.specs.models import AgencySpec, DatasetSpec
from ctdata.staging import Staging

if TYPE_CHECKING:
    import pandas as pd

    from ctdata.lifecycle.plan import DatasetPlan
    from ctdata.portal.client import SocrataClient


def extract(
    agency: AgencySpec,
    dataset: DatasetSpec,
    run_id: str,
    staging: Staging,
    connections: ConnectionLookup = environment_connection,
) -> dict[str, Any]:
    """Check the dataset can be published (metadata, suites, connection: before any work), query
    the source, apply the spec's transforms, stage the result."""
    from ctdata import settings
    from ctdata.preflight import require_dataset_ready
    from ctdata.sources import extract as read_source
    from ctdata.transforms import apply_transforms

    require_dataset_ready(agency, dataset, settings.current().expectations_dir, connections)

    frame = apply_transforms(read_source(dataset, connections=connections), dataset)
    path = staging.write_frame(frame, staging.path(agency.code, dataset.slug, run_id, "source"))
    return {"path": path, "rows": len(frame), "columns": list(map(str, frame.columns))}


def validate(
    staging: Staging,
    path: str,
    suites: list[str],
    dataset: DatasetSpec,
    stage: str,
    *,
    agency: str | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Run the named GX suites on a staged frame, keep each suite's result and Data Docs page
    (see ctdata.validation.store), and raise ValidationFailed (nothing published) on failure.

    Run-time values reach the suites as GX suite parameters: `suppression_spec`, for datasets
    with an aggregation. Results are written through the staging area's `open_path` (Airflow's
    ObjectStoragePath in tasks). `agency` and `run_id` say where (when not given, as from
    tests, they are read from the staged path <root>/<agency>/<dataset>/<run>/<step>.parquet).
    """
    from ctdata.validation import ResultStore, RunStage, run_suites

    parameters = {}
    if dataset.aggregation is not None:
        parameters["suppression_spec"] = dataset.aggregation.to_suppression_spec()
    staged_agency, staged_run = str(path).rstrip("/").split("/")[-4::2]
    keep_at = RunStage(agency or staged_agency, dataset.slug, run_id or staged_run, stage)
    summary = run_suites(
        staging.read_frame(path),
        suites,
        dataset=f"{dataset.slug} ({stage})",
        parameters=parameters,
        keep_at=keep_at,
        store=ResultStore(open_path=staging.open_path),
    )
    summary.raise_for_failure()
    return summary.as_dict()


def aggregate_and_suppress(
    agency: AgencySpec, dataset: DatasetSpec, source_path: str, run_id: str, staging: Staging
) -> dict[str, Any]:
    """Count records over the declared dimensions with every margin, suppress small cells and
    their complements until the LP audit passes, and stage the publishable table."""
    from ctdata.disclosure import aggregate, suppress

    spec = dataset.aggregation
    if spec is None:
        raise SourceError(f"dataset {dataset.slug!r} declares no aggregation")
    cube = aggregate(staging.read_frame(source_path), spec)
    result = suppress(cube, spec.to_suppression_spec())
    table = result.table
    if spec.cell_id_column:
        dims = [d.column for d in spec.dimensions]
        table[spec.cell_id_column] = table[dims].astype(str).agg("|".join, axis=1)
    table = conform(table, dataset)
    path = staging.write_frame(
        table, staging.path(agency.code, dataset.slug, run_id, "publishable")
    )
    return {
        "path": path,
        "rows": len(table),
        "cells_suppressed": result.primary + result.complementary,
        "primary": result.primary,
        "complementary": result.complementary,
        "audit_passed": result.audit.passed,
    }


def prepare_records(
    agency: AgencySpec, dataset: DatasetSpec, source_path: str, run_id: str, staging: Staging
) -> dict[str, Any]:
    """For datasets published row by row: keep the spec's columns, typed as the portal types them."""
    table = conform(staging.read_frame(source_path), dataset)
    path = staging.write_frame(
        table, staging.path(agency.code, dataset.slug, run_id, "publishable")
    )
    return {"path": path, "rows": len(table), "cells_suppressed": 0}


def onboard(agency: AgencySpec, dataset: DatasetSpec, client: SocrataClient) -> dict[str, Any]:
    """Make sure the dataset is on the portal: one the spec pins no id for is created (private,
    with the spec's columns, row identifier and metadata) once, and its id recorded."""
    from ctdata.lifecycle.onboarding import ensure_dataset

    done = ensure_dataset(agency.code, dataset, client, view_metadata(agency, dataset))
    return {"portal_id": done.portal_id, "how": done.how}


def publish(
    agency: AgencySpec,
    dataset: DatasetSpec,
    publishable_path: str,
    client: SocrataClient,
    staging: Staging,
) -> dict[str, Any]:
    """Send only what changed since the last publish (see ctdata.publishing); every
    `reconcile_every_days` also compare the portal with the fingerprints and repair hand edits."""
    from ctdata.portal.schema import PortalColumn
    from ctdata.publishing import publish_parquet
    from ctdata.publishing.state import StateStore

    require_standard_metadata(agency, dataset)  # nothing is sent for substandard metadata
    portal_id = require_portal_id(agency.code, dataset)
    apply_approved_columns(agency, dataset, portal_id, client)
    columns = [PortalColumn(c.field, c.name, c.type, c.description) for c in dataset.columns]
    options = dataset.publish
    state = StateStore()
    every = options.reconcile_every_days
    reconcile = every is not None and state.reconcile_due(portal_id, dt.timedelta(days=every))
    result = publish_parquet(
        client,
        portal_id,
        staging.open_path(publishable_path),
        columns=columns,
        method=options.method,
        row_id=dataset.row_identifier,
        state=state,
        chunk_rows=options.chunk_rows,
        allow_new_columns=options.allow_new_columns,
        reconcile=reconcile,
    )
    return {**result.as_dict(), **data_facts(dataset, publishable_path, staging)}


def data_facts(dataset: DatasetSpec, publishable_path: str, staging: Staging) -> dict[str, Any]:
    """What the metadata learns from the published table: the temporal coverage when the spec
    says 'auto' (passed on to `sync_metadata`)."""
    if not is_auto(dataset):
        return {}
    with staging.open_path(publishable_path).open("rb") as handle:
        return {"temporal_coverage": coverage_of_parquet(handle, dataset)}


def sync_metadata(
    agency: AgencySpec,
    dataset: DatasetSpec,
    client: SocrataClient,
    *,
    temporal_coverage: str | None = None,
) -> dict[str, Any]:
    """Bring the portal's dataset and column metadata in line with the spec, attach the data
    dictionary, publish the dataset and set its visibility. Only changed fields are written.
    `temporal_coverage` is what `publish` derived from the data for a spec saying 'auto'
    (without it the portal keeps the coverage it shows)."""
    portal_id = require_portal_id(agency.code, dataset)
    current = client.get_metadata(portal_id)
    coverage = _coverage_to_show(dataset, current, temporal_coverage)
    changes = metadata_changes(current, view_metadata(agency, dataset, temporal_coverage=coverage))
    if changes:
        client.update_metadata(portal_id, changes)
    dictionary = client.upload_attachment(
        portal_id,
        data_dictionary.FILENAME,
        data_dictionary.data_dictionary_csv(dataset),
        name=data_dictionary.ATTACHMENT_NAME,
        content_type="text/csv",
    )
    if current.get("publicationStage") != "published":
        client.publish(portal_id)
    client.set_permission(portal_id, public=dataset.public)
    return {
        "portal_id": portal_id,
        "changed_fields": sorted(changes),
        "public": dataset.public,
        "temporal_coverage": coverage or dataset.metadata.temporal_coverage,
        "data_dictionary": "attached" if dictionary.changed else "unchanged",
    }


def publish_frame(
    agency: AgencySpec,
    dataset: DatasetSpec,
    frame: pd.DataFrame,
    client: SocrataClient,
    run_id: str,
    staging: Staging | None = None,
) -> dict[str, Any]:
    """Publish a table the pipeline made itself (metrics, registers, inventories) the way an
    agency dataset is published: staged, sent by `publish`, then `sync_metadata`."""
    staging = staging or Staging()
    path = staging.write_frame(
        conform(frame, dataset), staging.path(agency.code, dataset.slug, run_id, "publishable")
    )
    try:
        result = publish(agency, dataset, path, client, staging)
    finally:
        staging.remove_run(agency.code, dataset.slug, run_id)  # aggregates, but keep it tidy
    meta = sync_metadata(agency, dataset, client, temporal_coverage=result.get("temporal_coverage"))
    return {
        "portal_id": meta["portal_id"],
        "rows": len(frame),
        **{k: result.get(k) for k in ("created", "updated", "deleted", "unchanged")},
        "metadata_changed": meta["changed_fields"],
    }


def _coverage_to_show(
    dataset: DatasetSpec, current: dict[str, Any], derived: str | None
) -> str | None:
    if not is_auto(dataset):
        return None
    shown = shown_custom_field(current, "temporal_coverage")
    if derived is None:
        return shown
    return merged_with_portal(derived, shown, dataset)


def plan(
    agency: AgencySpec,
    dataset: DatasetSpec,
    prepared: dict[str, Any],
    client: SocrataClient,
    staging: Staging,
) -> DatasetPlan:
    """What publishing the staged publishable table would change on the portal (rows, metadata,
    temporal coverage derived from the table included, columns, creation, review), sending
    nothing and recording nothing. Substandard metadata is refused here as `publish` would."""
    from ctdata.lifecycle.columns import ColumnChanges, portal_signature, spec_signature
    from ctdata.lifecycle.plan import DatasetPlan, metadata_field_changes
    from ctdata.lifecycle.plan_rows import new_dataset_rows, row_changes
    from ctdata.lifecycle.review import review_need

    require_standard_metadata(agency, dataset)  # publish would refuse it
    registry = DatasetRegistry()
    portal_id = resolve_portal_id(agency.code, dataset, registry)
    path = staging.open_path(prepared["path"])
    common = {"agency": agency.code, "slug": dataset.slug, "title": dataset.metadata.title}
    if portal_id is None:
        review = ["first publication"] if dataset.public else []
        return DatasetPlan(**common, portal_id=None, rows=new_dataset_rows(path), review=review)
    view = client.get_metadata(portal_id)
    columns = ColumnChanges.between(portal_signature(view), spec_signature(dataset))
    derived = data_facts(dataset, prepared["path"], staging).get("temporal_coverage")
    wanted = view_metadata(
        agency, dataset, temporal_coverage=_coverage_to_show(dataset, view, derived)
    )
    return DatasetPlan(
        **common,
        portal_id=portal_id,
        rows=row_changes(client, portal_id, path, dataset, columns),
        metadata=metadata_field_changes(view, wanted),
        columns=columns,
        review=review_need(agency.code, dataset, view, registry).reasons,
    )


def apply_approved_columns(
    agency: AgencySpec, dataset: DatasetSpec, portal_id: str, client: SocrataClient
) -> None:
    """Once OPM approved the spec's columns (added, removed or retyped ones), give them to the
    portal dataset before publishing; unapproved changes are left to the publisher's guards."""
    from ctdata.lifecycle.columns import apply_column_changes, spec_signature
    from ctdata.lifecycle.review import approved_columns

    if approved_columns(agency.code, dataset, DatasetRegistry()) == spec_signature(dataset):
        apply_column_changes(client, portal_id, dataset)
