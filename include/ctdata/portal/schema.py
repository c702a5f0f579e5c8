"""Column descriptions shared by agency specs, the publishing engine and the portal metadata."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ctdata.errors import PortalError

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
    """The field name of the dataset's row identifier, or None when it has none.

    Views read from data.ct.gov spell it three ways: `rowIdentifierColumnId` (the column's
    numeric id, absent when there is none), and `metadata.rowIdentifier` as a field name, as
    the column's numeric id, or `"0"` for "none". All resolve to the same answer here.
    """
    columns = [c for c in metadata.get("columns") or [] if "fieldName" in c]
    column_id = metadata.get("rowIdentifierColumnId")
    if column_id is not None:
        return resolve_row_identifier(column_id, columns, metadata.get("id"))
    return resolve_row_identifier(
        (metadata.get("metadata") or {}).get("rowIdentifier"), columns, metadata.get("id")
    )


def resolve_row_identifier(
    ref: str | int | None, columns: list[dict[str, Any]], dataset_id: Any = None
) -> str | None:
    """A row identifier given as a field name, a column id or `"0"` (none), as a field name."""
    if ref is None or str(ref).strip() in ("", "0"):
        return None  # "0" is never a column: it is how the portal says "no identifier"
    text = str(ref).strip()
    for column in columns:
        if column["fieldName"] == text or str(column.get("id")) == text:
            return str(column["fieldName"])
    raise PortalError(
        f"The row identifier {text!r} of dataset {dataset_id or '?'} names none of its "
        f"columns ({', '.join(str(c['fieldName']) for c in columns)}): set the row identifier "
        "again on the portal."
    )
