"""Publishing a spec dataset's table: its rows through the change-only engine
(`ctdata.publishing`), then its metadata in line with the state's standard, the data dictionary
and its visibility.

The one path every job publishes through: an agency DAG's `publish` and `sync_metadata` steps
(`ctdata.pipeline.steps`), and the tables the pipeline makes itself (`publish_frame`: usage
metrics, inventories, the retired-assets register, the run log).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ctdata.errors import ConfigurationError, SourceError
from ctdata.lifecycle import data_dictionary
from ctdata.lifecycle.coverage import coverage_of_parquet, is_auto, merged_with_portal
from ctdata.lifecycle.portal_metadata import metadata_changes, shown_custom_field, view_metadata
from ctdata.specs.lint import require_standard_metadata
from ctdata.staging import Staging

if TYPE_CHECKING:
    import pandas as pd

    from ctdata.lifecycle.registry import DatasetRegistry
    from ctdata.portal.client import SocrataClient
    from ctdata.publishing.state import PublishingState
    from ctdata.specs.models import AgencySpec, DatasetSpec


def publish_table(
    agency: AgencySpec,
    dataset: DatasetSpec,
    portal_id: str,
    publishable_path: str,
    client: SocrataClient,
    staging: Staging,
    *,
    state: PublishingState,
    registry: DatasetRegistry,
) -> dict[str, Any]:
    """Send only what changed since the last publish (see ctdata.publishing); every
    `reconcile_every_days` also compare the portal with the fingerprints and repair hand edits.
    Columns OPM approved are given to the portal dataset first."""
    from ctdata.portal.schema import PortalColumn
    from ctdata.publishing import publish_parquet

    require_standard_metadata(agency, dataset)  # nothing is sent for substandard metadata
    apply_approved_columns(agency, dataset, portal_id, client, registry)
    columns = [PortalColumn(c.field, c.name, c.type, c.description) for c in dataset.columns]
    options = dataset.publish
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
    portal_id: str,
    client: SocrataClient,
    *,
    temporal_coverage: str | None = None,
) -> dict[str, Any]:
    """Bring the portal's dataset and column metadata in line with the spec, attach the data
    dictionary, publish the dataset and set its visibility. Only changed fields are written.
    `temporal_coverage` is what `publish_table` derived from the data for a spec saying 'auto'
    (without it the portal keeps the coverage it shows)."""
    current = client.get_metadata(portal_id)
    coverage = coverage_to_show(dataset, current, temporal_coverage)
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
    agency dataset is published: staged, its rows sent, then its metadata. Such datasets pin
    their portal id in their configuration."""
    from ctdata.lifecycle.registry import DatasetRegistry
    from ctdata.publishing.state import PublishingState

    portal_id = dataset.portal_id
    if portal_id is None:
        raise ConfigurationError(
            f"dataset {agency.code}/{dataset.slug} pins no portal_id: a table the pipeline "
            "makes itself is published to a dataset its configuration names"
        )
    staging = staging or Staging()
    path = staging.write_frame(
        conform(frame, dataset), staging.path(agency.code, dataset.slug, run_id, "publishable")
    )
    try:
        result = publish_table(
            agency, dataset, portal_id, path, client, staging,
            state=PublishingState(), registry=DatasetRegistry(),
        )  # fmt: skip
    finally:
        staging.remove_run(agency.code, dataset.slug, run_id)  # aggregates, but keep it tidy
    meta = sync_metadata(
        agency, dataset, portal_id, client, temporal_coverage=result.get("temporal_coverage")
    )
    return {
        "portal_id": meta["portal_id"],
        "rows": len(frame),
        **{k: result.get(k) for k in ("created", "updated", "deleted", "unchanged")},
        "metadata_changed": meta["changed_fields"],
    }


def coverage_to_show(
    dataset: DatasetSpec, current: dict[str, Any], derived: str | None
) -> str | None:
    """The temporal coverage to write for a spec saying 'auto': what the data shows, merged
    with what the portal shows for a dataset whose rows accumulate (None: not 'auto')."""
    if not is_auto(dataset):
        return None
    shown = shown_custom_field(current, "temporal_coverage")
    if derived is None:
        return shown
    return merged_with_portal(derived, shown, dataset)


def apply_approved_columns(
    agency: AgencySpec,
    dataset: DatasetSpec,
    portal_id: str,
    client: SocrataClient,
    registry: DatasetRegistry,
) -> None:
    """Once OPM approved the spec's columns (added, removed or retyped ones), give them to the
    portal dataset before publishing; unapproved changes are left to the publisher's guards."""
    from ctdata.lifecycle.columns import apply_column_changes, spec_signature
    from ctdata.lifecycle.review import approved_columns

    if approved_columns(agency.code, dataset, registry) == spec_signature(dataset):
        apply_column_changes(client, portal_id, dataset)


def conform(frame: pd.DataFrame, dataset: DatasetSpec, first_row: int = 1) -> pd.DataFrame:
    """The spec's columns in the spec's order, typed for the portal. A missing column is an
    error naming it rather than a silently empty column on the portal; a value that is not its
    column's type is an error naming the column, the row and (for a public table) the value
    (`first_row`: the table's row number of the frame's first, when it is a batch of it)."""
    import pandas as pd

    from ctdata.sources.values import typed

    missing = [c.field for c in dataset.columns if c.field not in frame.columns]
    if missing:
        raise SourceError(
            f"dataset {dataset.slug!r}: column(s) {', '.join(missing)} named in 'columns' are not "
            f"produced by the source and transforms (available: {', '.join(map(str, frame.columns))})"
        )
    frame = frame.reset_index(drop=True)  # rows counted from 1 in the table's own order
    return pd.DataFrame(
        {
            c.field: typed(frame[c.field], c.type, dataset, c.field, first_row)
            for c in dataset.columns
        }  # fmt: skip
    )
