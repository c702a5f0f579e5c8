"""Configuration of the nightly usage-metrics job (include/usage_metrics.yaml).

The two output datasets are full `DatasetSpec`s so they publish through the same path as any
agency dataset (`ctdata.pipeline.steps.publish` / `sync_metadata`) under an `AgencySpec` built
here from the config: the metrics job is, to the portal, just another automated publisher.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, model_validator

from ctdata import settings
from ctdata.errors import SpecError
from ctdata.specs.generated import Publisher, check_fields, with_generated_sources
from ctdata.specs.models import FOUR_BY_FOUR, AgencySpec, DatasetSpec
from ctdata.yaml_models import Strict, load_yaml_model

DEFAULT_PATH = settings.PROJECT_ROOT / "include" / "usage_metrics.yaml"

# Fields each output dataset must have (the job fills them by name).
USAGE_FIELDS = (
    "row_id",
    "dataset_id",
    "dataset_name",
    "agency",
    "date",
    "views",
    "downloads",
    "api_calls",
    "views_total",
    "downloads_total",
    "api_calls_total",
    "filled",
    "freshness",
    "days_overdue",
    "missing_metadata",
)
SCORECARD_FIELDS = (
    "row_id",
    "agency",
    "date",
    "datasets_published",
    "share_automated",
    "share_access_plan_published",
    "late_access_plan_items",
    "share_updated_on_time",
    "share_complete_metadata",
    "views",
    "downloads",
    "api_calls",
)


FIELD = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")]  # a Socrata column field name


class AnalyticsFields(Strict):
    """Field names of the portal's "Site Analytics: Asset Access" dataset. Defaults are the real
    dataset's (Tyler's support article 360051223314 and rows read from real domains; see
    include/ctdata/metrics/README.md)."""

    timestamp: FIELD = "timestamp"
    asset_id: FIELD = "asset_uid"
    asset_type: FIELD = "asset_type"
    access_type: FIELD = "access_type"
    user_segment: FIELD = "user_segment"
    count: FIELD = "value"


class AccessTypes(Strict):
    """Which values of the access type column count as each of our three counters."""

    views: tuple[str, ...] = ("grid view", "primer page view")
    downloads: tuple[str, ...] = ("download",)
    api_calls: tuple[str, ...] = ("API read",)


class SiteAnalyticsConfig(Strict):
    """Where the nightly counters come from. Without a readable analytics dataset the job falls
    back to the catalog's counters (page views and downloads only) with one warning."""

    dataset_id: Annotated[str, Field(pattern=FOUR_BY_FOUR)] | None = Field(
        default=None,
        description="its four-by-four; looked up by dataset_name in the catalog if unset",
    )
    dataset_name: str = "Site Analytics: Asset Access"
    fields: AnalyticsFields = AnalyticsFields()
    asset_types: tuple[str, ...] = ("dataset",)
    access_types: AccessTypes = AccessTypes()
    # The public reads without signing in; the publishing accounts (and the metrics job's)
    # sign in, so their read-backs are left out of the figures OPM reads.
    public_user_segments: tuple[str, ...] = Field(
        default=("anonymous",), min_length=1, description="user segments counted as public use"
    )


class CandidateRules(Strict):
    """When the nightly job proposes a dataset for retirement (see ctdata.metrics.attention)."""

    unused_days: Annotated[int, Field(ge=30)] = Field(
        default=365, description="no use at all for this many days"
    )
    overdue_days: Annotated[int, Field(ge=1)] = Field(
        default=180, description="overdue by at least this many days"
    )


class MetricsConfig(Strict):
    """What the usage-metrics DAG measures, where it reads counters and where it publishes."""

    socrata_conn_id: str = "socrata_default"
    domain: str | None = Field(
        default=None, description="portal domain for the catalog; the connection's host if unset"
    )
    site_analytics: SiteAnalyticsConfig | None = Field(
        default=SiteAnalyticsConfig(), description="null: count from the catalog only"
    )
    reports_dir: str | None = Field(
        default=None, description="folder of the nightly HTML report; CTDATA_REPORTS_DIR if unset"
    )
    top_datasets: Annotated[int, Field(ge=1, le=50)] = 10
    catalog_page_size: Annotated[int, Field(ge=1, le=10_000)] = 1000
    retirement_candidates: CandidateRules = CandidateRules()
    publisher: Publisher
    usage_dataset: DatasetSpec
    scorecard_dataset: DatasetSpec

    @model_validator(mode="before")
    @classmethod
    def _generated_source(cls, data: Any) -> Any:
        """Output datasets are produced by the job, not read from an agency system."""
        return with_generated_sources(data, ("usage_dataset", "scorecard_dataset"))

    @model_validator(mode="after")
    def _outputs_have_fields(self) -> MetricsConfig:
        check_fields("usage_dataset", self.usage_dataset, USAGE_FIELDS)
        check_fields("scorecard_dataset", self.scorecard_dataset, SCORECARD_FIELDS)
        if self.usage_dataset.portal_id == self.scorecard_dataset.portal_id:
            raise ValueError("scorecard_dataset.portal_id: must differ from usage_dataset's")
        return self

    @property
    def reports_path(self) -> Path:
        return Path(self.reports_dir) if self.reports_dir else settings.current().reports_dir

    @property
    def output_ids(self) -> frozenset[str]:
        return frozenset({self.usage_dataset.portal_id, self.scorecard_dataset.portal_id})

    def agency(self) -> AgencySpec:
        """The publisher as an AgencySpec holding the two output datasets."""
        return self.publisher.agency(
            self.socrata_conn_id, [self.usage_dataset, self.scorecard_dataset]
        )


def config_path() -> Path:
    return Path(os.environ.get("CTDATA_METRICS_CONFIG", DEFAULT_PATH))


def load_metrics_config(path: str | Path | None = None) -> MetricsConfig:
    """Read and validate the config; SpecError names the file, the field and the reason."""
    path = Path(path) if path else config_path()
    return load_yaml_model(path, MetricsConfig, error=SpecError, what="usage metrics config")


def portal_seed_entries(owner: str, config: MetricsConfig | None = None) -> list[dict[str, Any]]:
    """Seed entries (the stand-in's seed shape) for the two output datasets: empty, private
    drafts with their columns, as a portal administrator creates them before the first run."""
    from ctdata.lifecycle.portal_metadata import seed_entry

    config = config or load_metrics_config()
    agency = config.agency()
    return [seed_entry(agency, dataset, owner) for dataset in agency.datasets]
