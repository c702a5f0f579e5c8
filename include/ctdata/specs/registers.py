"""Configuration of the state's registers (include/opm_registers.yaml): the portal datasets OPM
keeps about every agency's data, which the pipeline fills itself.

- *retired assets*: one row per asset going through the retirement process (its status, the
  dates, the reason, the links to its replacement and archived copy);
- *high value data inventory*, *open data access plans* and *agency data officers*: published
  once a year by the `inventories` DAG from the specs, the catalog and the usage metrics.

Each is a full `DatasetSpec` under OPM as publisher (see `ctdata.specs.generated`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, model_validator

from ctdata import settings
from ctdata.errors import SpecError
from ctdata.specs.generated import Publisher, check_fields, with_generated_sources
from ctdata.specs.models import EMAIL, AgencySpec, DatasetSpec
from ctdata.yaml_models import Strict, load_yaml_model

# Fields each register must have (the jobs fill them by name).
REGISTER_FIELDS: dict[str, tuple[str, ...]] = {
    "retired_assets": (
        "row_id", "asset_id", "asset_name", "asset_link", "agency", "category", "description",
        "update_frequency", "status", "notice_date", "removal_date", "retired_date", "reason",
        "replacement_link", "archived_copy_link",
    ),
    "high_value_inventory": (
        "row_id", "inventory_year", "agency", "dataset_name", "description", "category",
        "update_frequency", "geographic_unit", "temporal_coverage", "source_system",
        "personal_information", "access_level", "published", "portal_link", "last_updated",
        "automated", "views_last_year", "downloads_last_year", "api_calls_last_year",
    ),
    "access_plans": (
        "row_id", "agency", "dataset_name", "status", "target_date", "days_late", "portal_link",
        "update_frequency", "as_of",
    ),
    "data_officers": (
        "row_id", "agency", "data_officer", "email", "datasets_published", "access_plan_items",
        "late_items",
    ),
}  # fmt: skip


class RegistersConfig(Strict):
    """Where the registers are published and who answers for them."""

    socrata_conn_id: str = "socrata_default"
    publisher: Publisher
    administrators_email: Annotated[str, Field(pattern=EMAIL)] = Field(
        description="portal administrators' address, given in retirement notices"
    )
    inventory_dir: str | None = Field(
        default=None, description="folder of the yearly spreadsheets; <reports>/inventories"
    )
    retired_assets: DatasetSpec
    high_value_inventory: DatasetSpec
    access_plans: DatasetSpec
    data_officers: DatasetSpec

    @model_validator(mode="before")
    @classmethod
    def _generated_source(cls, data: Any) -> Any:
        return with_generated_sources(data, tuple(REGISTER_FIELDS))

    @model_validator(mode="after")
    def _registers_have_fields(self) -> RegistersConfig:
        for name, wanted in REGISTER_FIELDS.items():
            check_fields(name, getattr(self, name), wanted)
        ids = [getattr(self, name).portal_id for name in REGISTER_FIELDS]
        if len(set(ids)) != len(ids):
            raise ValueError("each register needs a portal_id of its own")
        return self

    @property
    def inventory_path(self) -> Path:
        if self.inventory_dir:
            return Path(self.inventory_dir)
        return settings.current().reports_dir / "inventories"

    def agency(self, *names: str) -> AgencySpec:
        """The publisher as an AgencySpec holding the named registers (all when none given)."""
        chosen = names or tuple(REGISTER_FIELDS)
        return self.publisher.agency(self.socrata_conn_id, [getattr(self, n) for n in chosen])


def load_registers_config(path: str | Path | None = None) -> RegistersConfig:
    """Read and validate the config; SpecError names the file, the field and the reason."""
    path = Path(path) if path else settings.current().registers_config
    return load_yaml_model(path, RegistersConfig, error=SpecError, what="registers config")
