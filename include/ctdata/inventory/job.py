"""The yearly inventory's steps, shared by `ctdata inventory` and the `inventories` DAG."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctdata.inventory.facts import gather
from ctdata.inventory.tables import Inventory, build_inventory
from ctdata.inventory.workbook import write_workbooks
from ctdata.specs.models import AgencySpec
from ctdata.specs.registers import RegistersConfig

if TYPE_CHECKING:
    import pandas as pd

    from ctdata.metrics.store import MetricsStore
    from ctdata.portal.client import SocrataClient
    from ctdata.staging import Staging

log = logging.getLogger(__name__)
TABLES = {  # register -> the Inventory attribute holding its rows
    "high_value_inventory": "high_value",
    "access_plans": "plan",
    "data_officers": "officers",
}


def build(
    client: SocrataClient,
    on: dt.date,
    *,
    agencies: Sequence[AgencySpec] | None = None,
    store: MetricsStore | None = None,
) -> Inventory:
    """The inventory on `on` for the agencies (every valid spec by default)."""
    if agencies is None:
        from ctdata.metrics.job import registered_agencies

        agencies = registered_agencies()
    facts = gather(client, agencies, on, store, exclude=generated_datasets())
    inventory = build_inventory(agencies, facts, on)
    late = sum(r["status"] == "Late" for r in inventory.plan)
    log.info(
        "Inventory of %s for %d agencies: %d datasets inventoried, %d access plan items "
        "(%d late).",
        on.isoformat(), len(inventory.agencies), len(inventory.high_value), len(inventory.plan),
        late,
    )  # fmt: skip
    return inventory


def generated_datasets() -> frozenset[str]:
    """The pipeline's own datasets (usage metrics, registers): no agency's holdings."""
    from ctdata.metrics.config import load_metrics_config
    from ctdata.specs.registers import load_registers_config

    registers = load_registers_config().agency()
    return load_metrics_config().output_ids | {d.portal_id for d in registers.datasets}


def write(inventory: Inventory, folder: Path, registers: RegistersConfig) -> list[Path]:
    paths = write_workbooks(
        inventory, folder, registers.high_value_inventory, registers.access_plans
    )
    log.info("Spreadsheets written: %s.", ", ".join(map(str, paths)))
    return paths


def frame(inventory: Inventory, registers: RegistersConfig, name: str) -> pd.DataFrame:
    """One table as the register's columns (dates as timestamps)."""
    import pandas as pd

    dataset = getattr(registers, name)
    out = pd.DataFrame.from_records(getattr(inventory, TABLES[name]), columns=dataset.field_names)
    for column in dataset.columns:
        if column.type == "calendar_date":
            out[column.field] = pd.to_datetime(out[column.field])
    return out


def publish(
    inventory: Inventory,
    client: SocrataClient,
    registers: RegistersConfig,
    run_id: str,
    staging: Staging | None = None,
) -> dict[str, Any]:
    """Publish the three tables through the ordinary publishing path."""
    from ctdata.lifecycle.publication import publish_frame

    agency = registers.agency(*TABLES)
    summary = {}
    for dataset in agency.datasets:
        table = frame(inventory, registers, dataset.slug)
        summary[dataset.slug] = done = publish_frame(
            agency, dataset, table, client, run_id, staging
        )
        log.info(
            "Published %s (%s): %d rows, %s created, %s updated, %s deleted, %s unchanged.",
            dataset.metadata.title, dataset.portal_id, len(table), done["created"],
            done["updated"], done["deleted"], done["unchanged"],
        )  # fmt: skip
    return summary
