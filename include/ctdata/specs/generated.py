"""Datasets the pipeline writes itself (usage metrics, the state's registers of retired assets,
inventories and data officers) rather than extracts from an agency system.

Each is an ordinary `DatasetSpec`, so it publishes through the same path as any agency dataset
(`ctdata.pipeline.steps.publish` / `sync_metadata`) under an `AgencySpec` built from its
publisher: to the portal these jobs are just other automated publishers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import Field

from ctdata.specs.models import AgencySpec, Contact, DatasetSpec
from ctdata.yaml_models import Strict

GENERATED_SOURCE = {"kind": "csv", "path": "generated-by-ctdata.csv"}


class Publisher(Strict):
    """The agency the generated datasets are published under (OPM on data.ct.gov)."""

    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: str = "Office of Policy and Management"
    data_officer: Contact
    owner: str = "opm-data-team"

    def agency(self, socrata_conn_id: str, datasets: Sequence[DatasetSpec]) -> AgencySpec:
        """The publisher as an AgencySpec holding `datasets`."""
        return AgencySpec(
            code=self.code,
            name=self.name,
            data_officer=self.data_officer,
            owner=self.owner,
            socrata_conn_id=socrata_conn_id,
            datasets=list(datasets),
        )


def with_generated_sources(data: Any, names: Sequence[str]) -> Any:
    """Give the named dataset entries of a config mapping the generated source (the job
    produces their rows, so their YAML names no source)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for name in names:
        entry = data.get(name)
        if isinstance(entry, dict) and "source" not in entry:
            data[name] = {**entry, "source": dict(GENERATED_SOURCE)}
    return data


def check_fields(name: str, spec: DatasetSpec, wanted: Sequence[str]) -> None:
    """A generated dataset must have the fields its job fills, keyed by `row_id`."""
    missing = [f for f in wanted if f not in spec.field_names]
    if missing:
        raise ValueError(f"{name}.columns: missing field(s) {', '.join(missing)}")
    if spec.row_identifier != "row_id":
        raise ValueError(f"{name}.row_identifier: must be 'row_id'")
