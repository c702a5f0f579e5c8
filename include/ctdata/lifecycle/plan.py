"""See before sending: what publishing a dataset would change on the portal, in words.

A plan holds the rows the publisher would create, change and delete (with a few examples, taken
from the publishable table: aggregated or de-identified rows only, never the raw extract), the
metadata fields that differ from the portal, the columns added, removed or retyped, and whether
the dataset would first be created or wait for OPM's review. Making it sends nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ctdata.lifecycle.columns import ColumnChanges
from ctdata.portal.schema import row_identifier_from_metadata

EXAMPLES = 3


@dataclass(frozen=True)
class FieldChange:
    """One metadata field whose portal value differs from the spec's."""

    field: str
    portal: Any
    spec: Any


@dataclass(frozen=True)
class RowChanges:
    """What the publisher would send: counts and a few example rows (publishable rows only)."""

    rows: int
    created: int
    changed: int
    deleted: int
    created_examples: list[dict[str, Any]] = field(default_factory=list)
    changed_examples: list[dict[str, Any]] = field(default_factory=list)  # {field: [old, new]}
    deleted_examples: list[str] = field(default_factory=list)  # row identifiers
    note: str = ""

    @property
    def unchanged(self) -> int:
        return self.rows - self.created - self.changed


@dataclass(frozen=True)
class DatasetPlan:
    agency: str
    slug: str
    title: str
    portal_id: str | None  # None: the dataset would be created first
    rows: RowChanges
    metadata: list[FieldChange] = field(default_factory=list)
    columns: ColumnChanges = field(default_factory=ColumnChanges)
    review: list[str] = field(default_factory=list)  # why a reviewer would be asked

    @property
    def sends_anything(self) -> bool:
        rows = self.rows
        return bool(
            self.portal_id is None or rows.created or rows.changed or rows.deleted
            or self.metadata or self.columns
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["columns"] = self.columns.as_dict()
        out["rows"]["unchanged"] = self.rows.unchanged
        return out

    def describe(self, portal_url: str) -> str:
        """The plan as the command line prints it and the dry-run task logs it."""
        where = (
            f"{self.portal_id} ({portal_url}/d/{self.portal_id})"
            if self.portal_id
            else "not on the portal yet: would be created, private, with the spec's columns, "
            "row identifier and metadata"
        )
        lines = [f"{self.agency}/{self.slug}: {self.title}", f"  dataset: {where}"]
        lines += _row_lines(self.rows)
        lines += _column_lines(self.columns)
        lines += _metadata_lines(self.metadata, created=self.portal_id is None)
        if self.review:
            lines.append(f"  review: OPM would be asked first ({'; '.join(self.review)})")
        if not self.sends_anything:
            lines.append("  nothing to send: the portal already holds this")
        return "\n".join(lines)


def _row_lines(rows: RowChanges) -> list[str]:
    lines = [
        f"  rows: {rows.rows:,} publishable; {rows.created:,} created, {rows.changed:,} changed, "
        f"{rows.deleted:,} deleted, {rows.unchanged:,} unchanged"
    ]
    if rows.note:
        lines.append(f"    ({rows.note})")
    lines += [f"    + {_row_text(row)}" for row in rows.created_examples]
    for change in rows.changed_examples:
        fields = {f: pair for f, pair in change.items() if f != "_key"}
        diffs = ", ".join(
            f"{f}: {_value(old)} -> {_value(new)}" for f, (old, new) in fields.items()
        )
        key = change.get("_key", "")
        lines.append(f"    ~ {key}: {diffs}")
    lines += [f"    - {key}" for key in rows.deleted_examples]
    return lines


def _column_lines(columns: ColumnChanges) -> list[str]:
    return [f"  {line}" for line in columns.describe()]


def _metadata_lines(fields: list[FieldChange], created: bool) -> list[str]:
    if created:
        return []
    if not fields:
        return ["  metadata: in line with the spec"]
    lines = [f"  metadata: {len(fields)} field(s) differ"]
    for change in fields:
        lines.append(f"    {change.field}: {_value(change.portal)} -> {_value(change.spec)}")
    return lines


def _row_text(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in row.items())


def _value(value: Any, limit: int = 60) -> str:
    if value is None or value == "":
        return "(empty)"
    text = str(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def metadata_field_changes(current: dict[str, Any], wanted: dict[str, Any]) -> list[FieldChange]:
    """Field by field, where the portal's view differs from what the spec wants (the fields
    `lifecycle.portal_metadata.view_metadata` owns): custom fields and columns one by one."""
    changes: list[FieldChange] = []
    for key, value in wanted.items():
        if key == "columns":
            changes += _column_text_changes(current.get("columns") or [], value)
        elif key == "metadata":
            changes += _custom_field_changes(current, value)
        elif current.get(key) != value:
            changes.append(FieldChange(key, current.get(key), value))
    return changes


def _column_text_changes(
    current: list[dict[str, Any]], wanted: list[dict[str, Any]]
) -> list[FieldChange]:
    by_field = {c.get("fieldName"): c for c in current}
    changes = []
    for column in wanted:
        now = by_field.get(column["fieldName"])
        if now is None:
            continue  # a new column: reported with the column changes
        for part in ("name", "description"):
            if (now.get(part) or "") != (column.get(part) or ""):
                label = f"column {column['fieldName']} {part}"
                changes.append(FieldChange(label, now.get(part), column.get(part)))
    return changes


def _custom_field_changes(view: dict[str, Any], wanted: dict[str, Any]) -> list[FieldChange]:
    current = view.get("metadata") or {}
    changes = []
    for fieldset, fields in (wanted.get("custom_fields") or {}).items():
        have = (current.get("custom_fields") or {}).get(fieldset) or {}
        for name, value in fields.items():
            if have.get(name) != value:
                changes.append(FieldChange(f"{fieldset}: {name}", have.get(name), value))
    if "rowIdentifier" in wanted:  # the portal may name it by column id, or "0" for none
        have_id = row_identifier_from_metadata(view)
        if have_id != wanted["rowIdentifier"]:
            changes.append(FieldChange("row identifier", have_id, wanted["rowIdentifier"]))
    return changes
