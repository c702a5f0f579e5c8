"""The dataset registry: which portal dataset holds each spec dataset, and OPM's review decisions.

A spec may pin a dataset's four-by-four id; otherwise the pipeline creates the dataset on its
first run and records the id here, keyed by agency code and dataset slug. A dataset's run
settles its id once from here (`ctdata.pipeline.run.DatasetRun.portal_id`); readers of many
datasets (the UI, metrics, alerts) ask `resolve_portal_id` or `with_portal_ids`, so all agree on
where a dataset lives.

Kept in the state store (`CTDATA_STATE_URL`: SQLite under var/ by default, PostgreSQL in
production) beside the publishing fingerprints, so a deployment has one database to back up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)

from ctdata import settings, store
from ctdata.store import redacted

if TYPE_CHECKING:
    from ctdata.specs import AgencySpec, DatasetSpec

metadata = MetaData()

datasets = Table(
    "dataset_registry",
    metadata,
    Column("agency", String(30), primary_key=True),
    Column("slug", String(40), primary_key=True),
    Column("portal_id", String(16), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=True),
    # Set while a create request's outcome is unknown (its answer was lost).
    Column("create_attempted_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("portal_id", name="uq_dataset_registry_portal_id"),
)

reviews = Table(
    "dataset_reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agency", String(30), nullable=False, index=True),
    Column("slug", String(40), nullable=False),
    Column("portal_id", String(16), nullable=True),
    Column("decision", String(16), nullable=False),
    Column("reviewer", Text, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("columns", Text, nullable=False),  # JSON {field: type} the decision was about
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("run_id", Text, nullable=True),
)

Decision = Literal["approved", "rejected"]


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class RegisteredDataset:
    """A dataset the pipeline created (or is creating) on the portal."""

    agency: str
    slug: str
    portal_id: str | None
    created_at: datetime | None
    create_attempted_at: datetime | None


@dataclass(frozen=True)
class ReviewDecision:
    """An OPM reviewer's decision on what the public would see: the columns it covered."""

    agency: str
    slug: str
    portal_id: str | None
    decision: Decision
    reviewer: str
    reason: str
    columns: dict[str, str]
    decided_at: datetime
    run_id: str | None = None

    @property
    def approved(self) -> bool:
        return self.decision == "approved"


class DatasetRegistry:
    """Portal ids of created datasets and review decisions; creates its tables on first use."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or settings.current().state_url
        self.engine = store.engine(self.url)
        store.ensure_tables(metadata, self.engine)

    def __repr__(self) -> str:
        return f"DatasetRegistry({redacted(self.url)!r})"

    def dispose(self) -> None:
        store.release(self.url)

    # -- portal ids --------------------------------------------------------------------------

    def entry(self, agency: str, slug: str) -> RegisteredDataset | None:
        query = select(datasets).where(datasets.c.agency == agency, datasets.c.slug == slug)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _entry(row) if row else None

    def portal_id(self, agency: str, slug: str) -> str | None:
        entry = self.entry(agency, slug)
        return entry.portal_id if entry else None

    def entries(self) -> list[RegisteredDataset]:
        query = select(datasets).order_by(datasets.c.agency, datasets.c.slug)
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query).mappings()]

    def note_create_attempt(self, agency: str, slug: str) -> datetime:
        """Remember that a create request is about to be sent (kept until its id is recorded)."""
        at = _now()
        self._upsert(agency, slug, create_attempted_at=at)
        return at

    def clear_create_attempt(self, agency: str, slug: str) -> None:
        """The create request was refused or never sent: nothing can have been made."""
        self._upsert(agency, slug, create_attempted_at=None)

    def record_created(self, agency: str, slug: str, portal_id: str) -> None:
        """Record the id of the dataset created for (agency, slug). Recording the same id again
        is a no-op; a different id for the same dataset is refused (never two datasets)."""
        current = self.portal_id(agency, slug)
        if current == portal_id:
            return
        if current is not None:
            raise ValueError(
                f"{agency}/{slug} is already registered as portal dataset {current}, "
                f"not {portal_id}"
            )
        self._upsert(agency, slug, portal_id=portal_id, created_at=_now(), create_attempted_at=None)

    def _upsert(self, agency: str, slug: str, **values: object) -> None:
        key = (datasets.c.agency == agency) & (datasets.c.slug == slug)
        with self.engine.begin() as conn:
            changed = conn.execute(update(datasets).where(key).values(**values)).rowcount
            if not changed:
                conn.execute(insert(datasets).values(agency=agency, slug=slug, **values))

    # -- reviews -----------------------------------------------------------------------------

    def record_decision(self, decision: ReviewDecision) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(reviews).values(
                    agency=decision.agency,
                    slug=decision.slug,
                    portal_id=decision.portal_id,
                    decision=decision.decision,
                    reviewer=decision.reviewer,
                    reason=decision.reason,
                    columns=json.dumps(decision.columns, sort_keys=True),
                    decided_at=decision.decided_at,
                    run_id=decision.run_id,
                )
            )

    def decisions(self, agency: str, slug: str) -> list[ReviewDecision]:
        """Every decision on the dataset, latest first."""
        query = (
            select(reviews)
            .where(reviews.c.agency == agency, reviews.c.slug == slug)
            .order_by(reviews.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [_decision(row) for row in conn.execute(query).mappings()]

    def last_approval(self, agency: str, slug: str) -> ReviewDecision | None:
        return next((d for d in self.decisions(agency, slug) if d.approved), None)


def _entry(row: dict) -> RegisteredDataset:
    return RegisteredDataset(
        agency=row["agency"],
        slug=row["slug"],
        portal_id=row["portal_id"],
        created_at=_utc(row["created_at"]),
        create_attempted_at=_utc(row["create_attempted_at"]),
    )


def _decision(row: dict) -> ReviewDecision:
    return ReviewDecision(
        agency=row["agency"],
        slug=row["slug"],
        portal_id=row["portal_id"],
        decision=row["decision"],
        reviewer=row["reviewer"],
        reason=row["reason"] or "",
        columns=json.loads(row["columns"]),
        decided_at=_utc(row["decided_at"]) or _now(),
        run_id=row["run_id"],
    )


def resolve_portal_id(
    agency_code: str, dataset: DatasetSpec, registry: DatasetRegistry | None = None
) -> str | None:
    """The one answer to "which portal dataset is this?": the id the spec pins, else the id the
    pipeline recorded when it created the dataset, else None (not created yet). A pinned id
    needs no database."""
    if dataset.portal_id is not None:
        return dataset.portal_id
    registry = registry or DatasetRegistry()
    return registry.portal_id(agency_code, dataset.slug)


def dataset_key(
    agency_code: str, dataset: DatasetSpec, registry: DatasetRegistry | None = None
) -> str:
    """The id the run ledger, the Open Data view and the alerts file a dataset under: its portal
    id, or `<agency>.<slug>` while the pipeline has not created it yet."""
    return resolve_portal_id(agency_code, dataset, registry) or provisional_key(
        agency_code, dataset.slug
    )


def provisional_key(agency_code: str, slug: str) -> str:
    """`dataset_key` of a dataset the pipeline has not created yet."""
    return f"{agency_code}.{slug}"


def with_portal_ids(
    agencies: list[AgencySpec], registry: DatasetRegistry | None = None
) -> list[AgencySpec]:
    """The specs as the portal knows them: each dataset the pipeline created carries its
    recorded id (one query), for readers that only need the id (metrics, inventories, the
    view). Datasets not created yet keep `portal_id=None`."""
    if all(d.portal_id for a in agencies for d in a.datasets):
        return agencies
    registry = registry or DatasetRegistry()
    ids = {(e.agency, e.slug): e.portal_id for e in registry.entries() if e.portal_id}
    return [
        agency.model_copy(
            update={
                "datasets": [
                    d
                    if d.portal_id
                    else d.model_copy(update={"portal_id": ids.get((agency.code, d.slug))})
                    for d in agency.datasets
                ]
            }
        )
        for agency in agencies
    ]


@dataclass(frozen=True)
class DatasetLocation:
    """Where one spec dataset lives, how that id came about, and OPM's last decision on it."""

    agency: str
    slug: str
    title: str
    portal_id: str | None
    origin: Literal["spec", "created", "creating", "not created"]
    created_at: datetime | None
    last_decision: ReviewDecision | None


def locate_all(
    agencies: list[AgencySpec], registry: DatasetRegistry | None = None
) -> list[DatasetLocation]:
    """Every spec dataset with its portal id: pinned in the spec, or created and recorded."""
    registry = registry or DatasetRegistry()
    located = []
    for agency in agencies:
        for dataset in agency.datasets:
            entry = registry.entry(agency.code, dataset.slug)
            decisions = registry.decisions(agency.code, dataset.slug)
            portal_id = resolve_portal_id(agency.code, dataset, registry)
            if dataset.portal_id is not None:
                origin = "spec"
            elif portal_id is not None:
                origin = "created"
            elif entry is not None and entry.create_attempted_at is not None:
                origin = "creating"
            else:
                origin = "not created"
            located.append(
                DatasetLocation(
                    agency=agency.code,
                    slug=dataset.slug,
                    title=dataset.metadata.title,
                    portal_id=portal_id,
                    origin=origin,
                    created_at=entry.created_at if entry else None,
                    last_decision=decisions[0] if decisions else None,
                )
            )
    return located
