"""The inventory's three tables, one row dict per line, keyed by the registers' field names
(include/opm_registers.yaml): the same rows fill the spreadsheets and the portal datasets.

- High Value Data Inventory: every dataset an agency holds for publication: the spec's
  datasets, those it published by hand (found in the catalog) and those its plan announces.
- Open Data Access Plan: each item of the plan (see `ctdata.specs.access_plan`), late ones
  flagged, plus the datasets published by hand.
- Agency Data Officers: one row per agency.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ctdata import settings
from ctdata.inventory.facts import COUNTERS, Facts, PortalDataset
from ctdata.specs.access_plan import PUBLISHED, RETIRED, RETIRING, PlanItem, plan_items
from ctdata.specs.models import AgencySpec, DatasetSpec

SOURCE_SYSTEMS = {  # one per source kind of the spec (tests/inventory checks every kind has one)
    "sql": "Database",
    "csv": "File",
    "http": "Web service",
    "geojson": "File (GIS)",
    "shapefile": "File (GIS)",
    "arcgis": "Web service (ArcGIS)",
}
BY_HAND = "Published by hand"
AGGREGATED = "Yes: published as counts, with small counts suppressed"
DE_IDENTIFIED = "Yes: published de-identified"
DE_IDENTIFYING_TRANSFORMS = frozenset({"pseudonymize", "suppress_small_groups"})


@dataclass
class Inventory:
    """The three tables for one date, and the agencies they cover."""

    on: dt.date
    agencies: list[AgencySpec]
    high_value: list[dict[str, Any]]
    plan: list[dict[str, Any]]
    officers: list[dict[str, Any]]

    @property
    def year(self) -> int:
        return self.on.year


def build_inventory(agencies: Sequence[AgencySpec], facts: Facts, on: dt.date) -> Inventory:
    agencies = sorted(agencies, key=lambda a: a.code)  # sheets are named by code
    plans = {a.code: _plan(a, facts, on) for a in agencies}
    return Inventory(
        on=on,
        agencies=list(agencies),
        high_value=[row for a in agencies for row in _high_value_rows(a, facts, plans[a.code], on)],
        plan=[_plan_row(a, item, facts, on) for a in agencies for item in plans[a.code]],
        officers=[_officer_row(a, facts, plans[a.code]) for a in agencies],
    )


def _plan(agency: AgencySpec, facts: Facts, on: dt.date) -> list[PlanItem]:
    items = plan_items(agency, facts.public_ids, on)
    for ds_id in facts.by_hand.get(agency.code, []):
        found = facts.on_portal[ds_id]
        items.append(
            PlanItem(agency.name, agency.code, found.name, ds_id, None,
                     PUBLISHED if found.public else "Private", 0, found.update_frequency, False)
        )  # fmt: skip
    return items


# -- High Value Data Inventory -------------------------------------------------------------


def _high_value_rows(
    agency: AgencySpec, facts: Facts, plan: list[PlanItem], on: dt.date
) -> list[dict[str, Any]]:
    specs = {d.slug: d for d in agency.datasets}
    rows = []
    for item in plan:
        dataset = specs.get(item.slug or "")
        found = facts.on_portal.get(item.portal_id or "")
        row = _dataset_fields(dataset, found, item) | _status_fields(item, found)
        rows.append(
            {
                "row_id": f"{on.year}|{agency.code}|{_key(item)}",
                "inventory_year": on.year,
                "agency": agency.name,
                **row,
                **_use(facts, item.portal_id),
            }
        )
    return rows


def _dataset_fields(
    dataset: DatasetSpec | None, found: PortalDataset | None, item: PlanItem
) -> dict[str, Any]:
    if dataset is not None:
        meta = dataset.metadata
        return {
            "dataset_name": meta.title,
            "description": meta.description,
            "category": meta.category,
            "update_frequency": meta.update_frequency,
            "geographic_unit": meta.geographic_unit,
            "temporal_coverage": None
            if meta.temporal_coverage == "auto"
            else meta.temporal_coverage,
            "source_system": SOURCE_SYSTEMS[dataset.source.kind],
            "personal_information": personal_information(dataset),
            "automated": True,
        }
    return {
        "dataset_name": found.name if found else item.title,
        "description": found.description if found else None,
        "category": found.category if found else None,
        "update_frequency": found.update_frequency if found else None,
        "geographic_unit": None,
        "temporal_coverage": None,
        "source_system": BY_HAND if found else None,
        "personal_information": None,
        "automated": False,
    }


def personal_information(dataset: DatasetSpec) -> str:
    """Whether the source holds information about people and how publication protects it."""
    if dataset.aggregation is not None:
        return AGGREGATED
    if any(t.kind in DE_IDENTIFYING_TRANSFORMS for t in dataset.transforms):
        return DE_IDENTIFIED
    return "No"


def _status_fields(item: PlanItem, found: PortalDataset | None) -> dict[str, Any]:
    if item.status in (RETIRING, RETIRED):
        level = item.status
    elif found is None:
        level = "Planned"
    else:
        level = "Public" if found.public else "Private"
    return {
        "access_level": level,
        "published": bool(found and found.public),
        "portal_link": _link(item.portal_id) if found else None,
        "last_updated": found.last_updated if found else None,
    }


def _use(facts: Facts, ds_id: str | None) -> dict[str, int | None]:
    use = facts.use.get(ds_id or "", {})
    return {f"{c}_last_year": use.get(c) for c in COUNTERS}


# -- Open Data Access Plan -----------------------------------------------------------------


def _plan_row(agency: AgencySpec, item: PlanItem, facts: Facts, on: dt.date) -> dict[str, Any]:
    found = facts.on_portal.get(item.portal_id or "")
    return {
        "row_id": f"{agency.code}|{_key(item)}",
        "agency": agency.name,
        "dataset_name": item.title,
        "status": item.status,
        "target_date": item.target_date,
        "days_late": item.days_late,
        "portal_link": _link(item.portal_id) if found else None,
        "update_frequency": item.update_frequency,
        "as_of": on,
    }


# -- Agency Data Officers ------------------------------------------------------------------


def _officer_row(agency: AgencySpec, facts: Facts, plan: list[PlanItem]) -> dict[str, Any]:
    public = facts.public_ids
    return {
        "row_id": agency.code,
        "agency": agency.name,
        "data_officer": agency.data_officer.name,
        "email": agency.data_officer.email,
        "datasets_published": sum(1 for i in plan if i.portal_id in public),
        "access_plan_items": len(plan),
        "late_items": sum(i.late for i in plan),
    }


def _key(item: PlanItem) -> str:
    return item.portal_id or re.sub(r"[^a-z0-9]+", "-", item.title.lower()).strip("-")


def _link(ds_id: str | None) -> str | None:
    return f"{settings.current().portal_url}/d/{ds_id}" if ds_id else None
