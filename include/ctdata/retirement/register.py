"""The retired-assets register: one row per dataset in the retirement process, published
through the ordinary path (`steps.publish_frame`, upsert by the dataset's portal id)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctdata import settings
from ctdata.specs.models import AgencySpec, DatasetSpec

if TYPE_CHECKING:
    from ctdata.portal.client import SocrataClient
    from ctdata.retirement.process import Stage
    from ctdata.specs.registers import RegistersConfig
    from ctdata.staging import Staging

REGISTER = "retired_assets"


@dataclass(frozen=True)
class Recorded:
    """What the register holds for a dataset."""

    status: str
    notice_date: dt.date | None
    retired_date: dt.date | None


def read_row(client: SocrataClient, registers: RegistersConfig, asset_id: str) -> Recorded | None:
    """The register's row for the dataset, if any."""
    rows = list(
        client.read_rows(registers.retired_assets.portal_id, where=f"row_id = '{asset_id}'")
    )
    if not rows:
        return None
    found = rows[0]
    return Recorded(
        status=str(found.get("status") or ""),
        notice_date=_date(found.get("notice_date")),
        retired_date=_date(found.get("retired_date")),
    )


def _date(value: Any) -> dt.date | None:
    """A calendar_date as the portal sends it ('2025-01-06T00:00:00.000')."""
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def row(agency: AgencySpec, dataset: DatasetSpec, stage: Stage) -> dict[str, Any]:
    """The dataset's register row: its inventory metadata, the dates, the reason and links."""
    retire = dataset.retire
    assert retire is not None, "only a dataset with a retire block has a register row"
    meta = dataset.metadata
    reason = retire.reason
    if retire.replacement:
        reason = f"{reason}; replaced by {retire.replacement}"
    return {
        "row_id": dataset.portal_id,
        "asset_id": dataset.portal_id,
        "asset_name": meta.title,
        "asset_link": f"{settings.current().portal_url}/d/{dataset.portal_id}",
        "agency": agency.name,
        "category": meta.category,
        "description": meta.description,
        "update_frequency": meta.update_frequency,
        "status": stage.status,
        "notice_date": stage.notice_date,
        "removal_date": stage.removal_date,
        "retired_date": stage.retired_date,
        "reason": reason,
        "replacement_link": retire.replacement,
        "archived_copy_link": retire.archived_copy,
    }


def publish_row(
    client: SocrataClient,
    registers: RegistersConfig,
    values: dict[str, Any],
    *,
    staging: Staging | None = None,
    run_id: str = "retirement",
) -> dict[str, Any]:
    """Upsert one row of the register (nothing is sent when it is unchanged)."""
    import pandas as pd

    from ctdata.lifecycle.publication import publish_frame

    dataset = registers.retired_assets
    frame = pd.DataFrame.from_records([values], columns=dataset.field_names)
    for field in ("notice_date", "removal_date", "retired_date"):
        frame[field] = pd.to_datetime(frame[field])
    agency = registers.agency(REGISTER)
    return publish_frame(agency, dataset, frame, client, run_id, staging)
