"""Typed models of an agency spec (include/agencies/<agency>.yaml).

A spec says, for one agency, where each dataset comes from, how it is checked and
de-identified, and how it appears on the portal. Models are strict (`extra="forbid"`) so a
misspelt key fails loudly instead of being ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ctdata.disclosure.spec import AggregationSpec
from ctdata.geometry import GEOMETRY_TYPES
from ctdata.publishing.methods import Method
from ctdata.specs.sources import (  # the source models, importable from here as before
    ArcGisSource as ArcGisSource,
)
from ctdata.specs.sources import CsvSource as CsvSource
from ctdata.specs.sources import GeoJsonSource as GeoJsonSource
from ctdata.specs.sources import GeometryColumns as GeometryColumns
from ctdata.specs.sources import HttpSource as HttpSource
from ctdata.specs.sources import Paging as Paging
from ctdata.specs.sources import ShapefileSource as ShapefileSource
from ctdata.specs.sources import Source
from ctdata.specs.sources import SqlSource as SqlSource
from ctdata.specs.vocabulary import (
    SCHEDULE_BY_FREQUENCY,
    Category,
    DataType,
    GeographicUnit,
    License,
    RetirementReason,
    UpdateFrequency,
)
from ctdata.yaml_models import Strict

FOUR_BY_FOUR = r"^[a-z0-9]{4}-[a-z0-9]{4}$"
FIELD_NAME = r"^[a-z_][a-z0-9_]*$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
RETIREMENT_SCHEDULE = SCHEDULE_BY_FREQUENCY["Daily"]
NOTICE_DAYS = 30  # a retiring dataset stays public this long with its notice
RECENT_DAYS = 7  # a dataset published this recently may be removed at once


class Contact(Strict):
    name: str
    email: Annotated[str, Field(pattern=EMAIL)]


class DatasetMetadata(Strict):
    """The CT Open Data Portal's dataset-level metadata schema (`ctdata lint` checks the
    state's guidelines for each field beyond its type)."""

    title: Annotated[str, Field(min_length=5, max_length=150)] = Field(
        description="plain language, no acronyms"
    )
    description: Annotated[str, Field(min_length=20)] = Field(
        description="what the data holds, where it comes from, how it was made, its limits; "
        "plain language, acronyms explained, person-first language"
    )
    category: Category
    tags: Annotated[list[str], Field(min_length=1)] = Field(description="lower-case keywords")
    row_label: str = Field(description="what one row represents, e.g. 'Town, year and sex'")
    source_link: Annotated[str, Field(pattern=r"^https?://")] = Field(
        description="https address of the program's web page"
    )
    geographic_unit: GeographicUnit
    temporal_coverage: str = Field(
        description="an interval such as '2012 - 2018' or '2012 - present'; 'auto' derives it "
        "from the data (the dataset's year column, else its first date column)"
    )
    attribution: str = Field(description="the publishing agency (Data Provided By)")
    contact_email: Annotated[str, Field(pattern=EMAIL)] = Field(
        description="a team mailbox, not shown publicly"
    )
    update_frequency: UpdateFrequency
    license: License = "PUBLIC_DOMAIN"


class CrosswalkTransform(Strict):
    """Maps free-text values (villages, misspellings) to a controlled domain (e.g. towns)."""

    kind: Literal["crosswalk"]
    column: str
    output: str
    crosswalk: str = Field(description="CSV with columns 'value' and 'maps_to'")
    domain: str = Field(description="CSV whose first column lists the allowed values")
    unknown_label: str = "Unknown"


class PseudonymizeTransform(Strict):
    """Replaces an identifier by a keyed hash (HMAC-SHA256), stable across runs."""

    kind: Literal["pseudonymize"]
    column: str
    output: str
    key_env: str = "CTDATA_PSEUDONYM_KEY"
    length: Annotated[int, Field(ge=12, le=64)] = 16


class SmallGroupTransform(Strict):
    """k-anonymity for record-level data: where fewer than `k` rows share a combination of the
    quasi-identifiers, replace the `generalize` columns (in this order) by `label`; rows still
    in too small a group afterwards are removed, so no row stands for 1 to k-1 people."""

    kind: Literal["suppress_small_groups"]
    quasi_identifiers: Annotated[list[str], Field(min_length=1)]
    generalize: list[str]
    k: Annotated[int, Field(ge=2)] = 6
    label: str = "Suppressed"

    @model_validator(mode="after")
    def _generalize_quasi_identifiers(self) -> SmallGroupTransform:
        outside = [c for c in self.generalize if c not in self.quasi_identifiers]
        if outside:
            raise ValueError(f"generalize: {outside} are not among the quasi_identifiers")
        return self


class DropTransform(Strict):
    kind: Literal["drop"]
    columns: list[str]


Transform = Annotated[
    CrosswalkTransform | PseudonymizeTransform | SmallGroupTransform | DropTransform,
    Field(discriminator="kind"),
]


class Column(Strict):
    """One portal column: plain-language display name, field name, type and description."""

    name: str
    field: Annotated[str, Field(pattern=FIELD_NAME, max_length=63)]
    type: DataType
    description: Annotated[str, Field(min_length=3)]

    @field_validator("type", mode="before")
    @classmethod
    def _location_is_read_only(cls, value: object) -> object:
        if value == "location":
            raise ValueError(
                "'location' is the portal's legacy type, read only: publish a 'point' column "
                "(and the address in text columns) instead"
            )
        return value


class PublishOptions(Strict):
    method: Method = "sync"
    chunk_rows: Annotated[int, Field(ge=1, le=100_000)] = 10_000
    allow_new_columns: bool = False
    reconcile_every_days: Annotated[int, Field(ge=1)] | None = Field(
        default=7, description="days between read-backs that repair hand edits on the portal"
    )


class Suites(Strict):
    source: list[str] = []
    publishable: list[str] = []


class Aggregation(AggregationSpec):
    """The disclosure-control spec plus the published key column built from the dimensions."""

    cell_id_column: str | None = "cell_id"


class Retirement(Strict):
    """The state's retirement process for this dataset (ctdata.retirement.process): from the
    notice date the title reads "ARCHIVE", the "archive" tag and a notice go on, and the
    retired-assets dataset lists it; 30 days later it is made private."""

    reason: RetirementReason
    notice_date: dt.date = Field(description="first day of the 30-day notice")
    replacement: Annotated[str, Field(pattern=r"^https?://")] | None = Field(
        default=None, description="link to the asset that supersedes this one"
    )
    archived_copy: Annotated[str, Field(pattern=r"^https?://")] | None = Field(
        default=None, description="link to an archived copy, if one is kept"
    )
    note: str | None = Field(default=None, description="a sentence for the public notice")
    immediate: bool = Field(
        default=False,
        description="remove at once (allowed only for a dataset published within the 7 days "
        "before the notice date; otherwise the 30-day notice applies)",
    )

    @property
    def removal_date(self) -> dt.date:
        """When the dataset is made private after the notice (without `immediate`)."""
        return self.notice_date + dt.timedelta(days=NOTICE_DAYS)


class DatasetSpec(Strict):
    slug: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
    portal_id: Annotated[str, Field(pattern=FOUR_BY_FOUR)] | None = Field(
        default=None,
        description="pins the dataset's four-by-four id; when omitted the pipeline creates the "
        "dataset on its first run and records the id (ctdata.lifecycle.registry)",
    )
    metadata: DatasetMetadata
    source: Source
    transforms: list[Transform] = []
    aggregation: Aggregation | None = None
    columns: Annotated[list[Column], Field(min_length=1)]
    row_identifier: str | None = None
    publish: PublishOptions = PublishOptions()
    expectations: Suites = Suites()
    schedule: str | None = Field(
        default=None, description="cron; derived from metadata.update_frequency when omitted"
    )
    public: bool = True
    retire: Retirement | None = Field(
        default=None, description="retire this dataset by the state's process"
    )
    supersedes: list[Annotated[str, Field(pattern=FOUR_BY_FOUR)]] = Field(
        default=[], description="portal ids of older datasets this one replaces"
    )
    population: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)] | None = Field(
        default=None,
        description="name shared by the agency's datasets about the same people (e.g. "
        "'ocme_deaths'): they are protected and audited together, over all their releases",
    )

    @field_validator("portal_id", mode="before")
    @classmethod
    def _explain_portal_id(cls, value: object) -> object:
        if isinstance(value, str) and not re.match(FOUR_BY_FOUR, value):
            raise ValueError(
                f"{value!r} is not a portal id: use the dataset's four-by-four id, like 'abcd-1234'"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DatasetSpec:
        fields = [c.field for c in self.columns]
        duplicates = sorted({f for f in fields if fields.count(f) > 1})
        if duplicates:
            raise ValueError(f"columns: field names used twice: {', '.join(duplicates)}")
        if self.row_identifier is not None and self.row_identifier not in fields:
            raise ValueError(
                f"row_identifier {self.row_identifier!r} is not one of the columns' fields "
                f"({', '.join(fields)})"
            )
        needs_id = self.publish.method in ("upsert", "sync")
        if needs_id and self.row_identifier is None:
            raise ValueError(f"publish.method {self.publish.method!r} needs a row_identifier")
        if self.publish.method == "append" and self.row_identifier is not None:
            raise ValueError("publish.method 'append' is for datasets without a row_identifier")
        geometric = [c.field for c in self.columns if c.type in GEOMETRY_TYPES]
        if geometric and self.metadata.geographic_unit == "Not applicable":
            raise ValueError(
                f"metadata.geographic_unit: the dataset has geospatial column(s) "
                f"{', '.join(geometric)}: say what one geometry stands for (e.g. 'County or "
                "county-equivalent', 'Municipality', 'Latitude/longitude'), not 'Not applicable'"
            )
        return self

    @property
    def effective_schedule(self) -> str | None:
        if self.retire is not None:
            return RETIREMENT_SCHEDULE  # the process needs a visit every day, whatever the data
        if self.schedule is not None:
            return self.schedule
        return SCHEDULE_BY_FREQUENCY[self.metadata.update_frequency]

    @property
    def field_names(self) -> list[str]:
        return [c.field for c in self.columns]

    @property
    def de_identifies(self) -> bool:
        """Does the pipeline protect small groups in this table (aggregation and suppression,
        or record-level generalization)? Only such tables join an inferred population."""
        small_groups = any(t.kind == "suppress_small_groups" for t in self.transforms)
        return self.aggregation is not None or small_groups


class AccessPlanEntry(Strict):
    """A dataset the agency's open data access plan lists (published or planned)."""

    title: str
    portal_id: Annotated[str, Field(pattern=FOUR_BY_FOUR)] | None = None
    target_date: dt.date | None = Field(
        default=None, description="date by which a planned dataset is to be published"
    )


class Alerts(Strict):
    """Who hears of this agency's failed and late runs besides its data officer."""

    to: list[Annotated[str, Field(pattern=EMAIL)]] = []
    opm: Annotated[str, Field(pattern=EMAIL)] | None = Field(
        default=None, description="OPM's address for this agency; CTDATA_ALERT_OPM_EMAIL if unset"
    )


class AgencySpec(Strict):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=30)]
    name: str
    data_officer: Contact
    owner: str | None = Field(default=None, description="Airflow owner; the agency code if unset")
    socrata_conn_id: str = "socrata_default"
    access_plan: list[AccessPlanEntry] = []
    alerts: Alerts = Alerts()
    datasets: Annotated[list[DatasetSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_datasets(self) -> AgencySpec:
        for attribute in ("slug", "portal_id"):
            values = [getattr(d, attribute) for d in self.datasets]
            values = [v for v in values if v is not None]  # unpinned ids are created later
            twice = sorted({v for v in values if values.count(v) > 1})
            if twice:
                raise ValueError(f"datasets: {attribute} used twice: {', '.join(twice)}")
        return self

    @property
    def dag_id(self) -> str:
        return f"publish_{self.code}"

    @property
    def airflow_owner(self) -> str:
        return self.owner or self.code

    def dataset(self, slug: str) -> DatasetSpec:
        for dataset in self.datasets:
            if dataset.slug == slug:
                return dataset
        raise KeyError(f"agency {self.code!r} has no dataset {slug!r}")

    def population_key(self, dataset: DatasetSpec) -> str:
        """The disclosure population a dataset belongs to: its declared `population`; else,
        when other datasets of the agency read the very same source, those datasets together
        (they describe the same people) and de-identify it; else the dataset alone (still
        protected over all its own releases)."""
        if dataset.population is not None:
            return f"{self.code}.{dataset.population}"
        same = [
            d
            for d in self.datasets
            if d.population is None and d.de_identifies and d.source == dataset.source
        ]
        if not dataset.de_identifies:
            return f"{self.code}.{dataset.slug}"
        return f"{self.code}.{same[0].slug if len(same) > 1 else dataset.slug}"

    def population_members(self, dataset: DatasetSpec) -> list[DatasetSpec]:
        """The datasets protected together with this one (itself included), in spec order;
        retiring datasets are no longer refreshed (their releases stay in the history)."""
        key = self.population_key(dataset)
        return [d for d in self.datasets if self.population_key(d) == key and d.retire is None]
