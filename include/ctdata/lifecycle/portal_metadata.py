"""Translate a dataset spec into the Socrata view metadata the portal should hold."""

from __future__ import annotations

from typing import Any

from ctdata.errors import PortalError
from ctdata.portal.schema import row_identifier_from_metadata
from ctdata.specs.guidelines import AUTO
from ctdata.specs.models import AgencySpec, DatasetSpec
from ctdata.specs.vocabulary import CUSTOM_FIELDS


def view_metadata(
    agency: AgencySpec, dataset: DatasetSpec, *, temporal_coverage: str | None = None
) -> dict[str, Any]:
    """The view fields (as `PUT /api/views/{id}.json` takes them) that the spec owns.
    `temporal_coverage` is the one derived from the data when the spec says 'auto'."""
    meta = dataset.metadata
    custom: dict[str, dict[str, str]] = {}
    values = {
        "agency": agency.name,
        "row_label": meta.row_label,
        "geographic_unit": meta.geographic_unit,
        "temporal_coverage": temporal_coverage or meta.temporal_coverage,
        "source_link": meta.source_link,
        "update_frequency": meta.update_frequency,
        "contact_email": meta.contact_email,
    }
    for key, (fieldset, field) in CUSTOM_FIELDS.items():
        if values[key] != AUTO:  # 'auto' coverage not derived yet: nothing to show
            custom.setdefault(fieldset, {})[field] = values[key]
    return {
        "name": meta.title,
        "description": meta.description,
        "category": meta.category,
        "tags": list(meta.tags),
        "attribution": meta.attribution,
        "attributionLink": meta.source_link,
        "licenseId": meta.license,
        "metadata": {"custom_fields": custom, "rowIdentifier": dataset.row_identifier},
        "columns": [
            {"fieldName": c.field, "name": c.name, "description": c.description}
            for c in dataset.columns
        ],
    }


def metadata_changes(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """The subset of `wanted` that differs from the portal's view (columns by field name)."""
    changes: dict[str, Any] = {}
    for key, value in wanted.items():
        if key == "columns":
            if _column_texts(current.get("columns", [])) != _column_texts(value):
                changes[key] = value
        elif key == "metadata":
            current_meta = current.get("metadata") or {}
            value = dict(value)
            if "rowIdentifier" in value and _same_row_identifier(current, value["rowIdentifier"]):
                del value["rowIdentifier"]  # the same column, perhaps spelled by its id or "0"
            if any(current_meta.get(k) != v for k, v in value.items()):
                changes[key] = {**current_meta, **value}
        elif current.get(key) != value:
            changes[key] = value
    return changes


def _same_row_identifier(current: dict[str, Any], wanted: str | None) -> bool:
    """Does the portal's view already have this row identifier, however it spells it?"""
    try:
        return row_identifier_from_metadata(current) == wanted
    except PortalError:
        return False  # it names no column: write the spec's


def shown_custom_field(view: dict[str, Any], name: str) -> str | None:
    """A CT custom field as the portal's view shows it (e.g. the current temporal coverage)."""
    fieldset, field = CUSTOM_FIELDS[name]
    custom = (view.get("metadata") or {}).get("custom_fields") or {}
    value = (custom.get(fieldset) or {}).get(field)
    return str(value) if value else None


def _column_texts(columns: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    return {c["fieldName"]: (c.get("name", ""), c.get("description", "")) for c in columns}


def seed_entry(agency: AgencySpec, dataset: DatasetSpec, owner: str) -> dict[str, Any]:
    """The portal stand-in's seed for this dataset: an empty dataset with the spec's columns,
    as an administrator would create it on data.ct.gov before the first automated publish."""
    return {
        "id": dataset.portal_id,
        "name": dataset.metadata.title,
        "owner": owner,
        "public": False,
        "published": False,
        "rowIdentifier": dataset.row_identifier,
        "columns": [
            {"fieldName": c.field, "name": c.name, "dataTypeName": c.type, "description": ""}
            for c in dataset.columns
        ],
    }
