"""Onboarding: create a spec dataset that has no portal id yet, exactly once.

The dataset is created private, with the spec's columns, row identifier and metadata, and its id
is recorded in the registry. A create request is not idempotent (sending it twice makes two
datasets), so the view carries a marker naming the agency and dataset: before creating, and when
a create's answer was lost (`AmbiguousWriteError`), the pipeline looks for a dataset carrying
its marker, and records that one instead of creating another.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ctdata import settings
from ctdata.errors import AmbiguousWriteError, PortalError, PortalRefusedError
from ctdata.lifecycle.registry import DatasetRegistry
from ctdata.portal.schema import PortalColumn

if TYPE_CHECKING:
    from ctdata.portal.client import SocrataClient
    from ctdata.specs import DatasetSpec

log = logging.getLogger(__name__)

MARKER_KEY = "ctdata"  # a key of the view's `metadata`, kept by the portal like rowIdentifier


class OnboardingPending(PortalError):
    """A create request may have made the dataset, but the portal does not list it yet. The
    next attempt looks for it again before creating anything."""

    retryable = True


@dataclass(frozen=True)
class Onboarded:
    """Where the dataset lives and how that was settled."""

    portal_id: str
    how: Literal["pinned", "registered", "found", "created"]


def marker(agency_code: str, dataset: DatasetSpec) -> dict[str, str]:
    return {"agency": agency_code, "dataset": dataset.slug}


def ensure_dataset(
    agency_code: str,
    dataset: DatasetSpec,
    client: SocrataClient,
    view: dict[str, Any],
    registry: DatasetRegistry | None = None,
) -> Onboarded:
    """The dataset's portal id, creating the dataset (private) if it has none yet. `view` is
    the metadata the spec gives it (`ctdata.lifecycle.portal_metadata.view_metadata`)."""
    if dataset.portal_id is not None:
        return Onboarded(dataset.portal_id, "pinned")
    registry = registry or DatasetRegistry()
    entry = registry.entry(agency_code, dataset.slug)
    if entry is not None and entry.portal_id is not None:
        return Onboarded(entry.portal_id, "registered")
    found = find_created(client, agency_code, dataset)
    if found is not None:
        registry.record_created(agency_code, dataset.slug, found)
        log.info("Found dataset %s, created by an earlier attempt; recorded it.", found)
        return Onboarded(found, "found")
    if entry is not None and entry.create_attempted_at is not None:
        _wait_for_earlier_attempt(dataset, entry.create_attempted_at)
    return _create(
        agency_code, dataset, client, creation_request(agency_code, dataset, view), registry
    )


def _create(
    agency_code: str,
    dataset: DatasetSpec,
    client: SocrataClient,
    request: dict[str, Any],
    registry: DatasetRegistry,
) -> Onboarded:
    registry.note_create_attempt(agency_code, dataset.slug)
    try:
        created = client.create_dataset(**request)
    except AmbiguousWriteError as exc:
        found = find_created(client, agency_code, dataset)
        if found is None:
            raise OnboardingPending(
                f"Creating dataset {dataset.slug!r} on the portal may or may not have succeeded "
                f"({exc}); the portal does not list it yet. The next attempt looks for it again "
                "before creating anything."
            ) from exc
        registry.record_created(agency_code, dataset.slug, found)
        log.info("The create request's answer was lost, but dataset %s exists; recorded.", found)
        return Onboarded(found, "found")
    except PortalError:
        registry.clear_create_attempt(agency_code, dataset.slug)  # refused: nothing was made
        raise
    portal_id = str(created["id"])
    registry.record_created(agency_code, dataset.slug, portal_id)
    client.set_permission(portal_id, public=False)  # private until OPM approves it
    log.info("Created dataset %s (private) for %s/%s.", portal_id, agency_code, dataset.slug)
    return Onboarded(portal_id, "created")


def _wait_for_earlier_attempt(dataset: DatasetSpec, attempted_at: dt.datetime) -> None:
    """An earlier create's outcome is unknown and the catalog may lag: do not create another
    until the settling time has passed without the dataset showing up."""
    settle = dt.timedelta(minutes=settings.current().onboarding_settle_minutes)
    waited = dt.datetime.now(dt.UTC) - attempted_at
    if waited < settle:
        raise OnboardingPending(
            f"An earlier attempt to create dataset {dataset.slug!r} at "
            f"{attempted_at:%Y-%m-%d %H:%M} UTC may have succeeded but the portal does not list "
            f"it yet; no new dataset is created before {settle} has passed. If a private dataset "
            f"titled {dataset.metadata.title!r} exists, pin its id in the spec (portal_id)."
        )
    log.warning(
        "An earlier create of %s left no dataset after %s: creating it now.", dataset.slug, waited
    )


def creation_request(
    agency_code: str, dataset: DatasetSpec, view: dict[str, Any]
) -> dict[str, Any]:
    """`SocrataClient.create_dataset` arguments: the spec's view metadata, typed columns, row
    identifier and the marker."""
    columns = [PortalColumn(c.field, c.name, c.type, c.description) for c in dataset.columns]
    meta = {**view["metadata"], MARKER_KEY: marker(agency_code, dataset)}
    fields = {k: v for k, v in view.items() if k not in ("name", "columns", "metadata")}
    return {"name": view["name"], "columns": columns, **fields, "metadata": meta}


def find_created(client: SocrataClient, agency_code: str, dataset: DatasetSpec) -> str | None:
    """The id of a dataset carrying this spec dataset's marker, if the portal lists one.

    Candidates come from the catalog by the spec's attribution and title (Socrata's catalog
    lists the private assets an authenticated account may see, socrata/cetera#265); the marker
    is read from each one's view."""
    wanted = marker(agency_code, dataset)
    title = dataset.metadata.title
    candidates = [
        entry["resource"]["id"]
        for entry in client.catalog(attribution=dataset.metadata.attribution)
        if entry.get("resource", {}).get("name") == title
    ]
    for candidate in sorted(candidates):
        try:
            view = client.get_metadata(candidate)
        except PortalRefusedError:
            continue  # deleted or not ours meanwhile
        if (view.get("metadata") or {}).get(MARKER_KEY) == wanted:
            return candidate
    return None
