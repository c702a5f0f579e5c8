"""Column descriptions shared by agency specs, the publishing engine and the portal metadata."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SOCRATA_TYPES = frozenset(
    {
        "text",
        "number",
        "calendar_date",
        "checkbox",
        "point",
        "url",
        "location",
        "line",
        "polygon",
        "multipoint",
        "multiline",
        "multipolygon",
        "money",
        "percent",
        "html",
        "email",
        "phone",
        "photo",
        "document",
    }
)


@dataclass(frozen=True)
class PortalColumn:
    """One column of a portal dataset, keyed by its API field name."""

    field_name: str
    name: str
    data_type: str
    description: str = ""

    def to_socrata(self) -> dict[str, Any]:
        """The column as Socrata's /api/views JSON spells it."""
        return {
            "fieldName": self.field_name,
            "name": self.name,
            "dataTypeName": self.data_type,
            "description": self.description,
        }

    @classmethod
    def from_socrata(cls, column: dict[str, Any]) -> PortalColumn:
        return cls(
            field_name=str(column["fieldName"]),
            name=str(column.get("name") or column["fieldName"]),
            data_type=str(column.get("dataTypeName") or "text").lower(),
            description=str(column.get("description") or ""),
        )


def columns_from_metadata(metadata: dict[str, Any]) -> list[PortalColumn]:
    """The dataset's user columns (system fields such as `:id` left out), in position order."""
    raw = sorted(metadata.get("columns") or [], key=lambda c: c.get("position", 0))
    return [
        PortalColumn.from_socrata(c)
        for c in raw
        if not str(c.get("fieldName", ":")).startswith(":")
    ]


def row_identifier_from_metadata(metadata: dict[str, Any]) -> str | None:
    """The field name of the dataset's row identifier, if the portal has one set."""
    meta = metadata.get("metadata") or {}
    rid = meta.get("rowIdentifier")
    columns = metadata.get("columns") or []
    col_id = metadata.get("rowIdentifierColumnId")
    if rid is None and col_id is not None:
        rid = col_id
    if rid is None:
        return None
    for col in columns:  # rowIdentifier may be a column id or a field name
        if str(col.get("id")) == str(rid) or col.get("fieldName") == rid:
            return str(col["fieldName"])
    return str(rid) if isinstance(rid, str) else None
