"""Column changes between what the public saw (or a reviewer approved) and what a spec asks
for: added, removed and retyped columns, and how the portal is brought in line once approved."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ctdata.errors import PortalRefusedError
from ctdata.portal.schema import PortalColumn, columns_from_metadata

if TYPE_CHECKING:
    from ctdata.portal.client import SocrataClient
    from ctdata.specs import DatasetSpec

log = logging.getLogger(__name__)

Signature = dict[str, str]  # field name -> portal data type


def spec_signature(dataset: DatasetSpec) -> Signature:
    return {c.field: c.type for c in dataset.columns}


def portal_signature(view: dict[str, Any]) -> Signature:
    return {c.field_name: c.data_type for c in columns_from_metadata(view)}


@dataclass(frozen=True)
class ColumnChanges:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retyped: list[tuple[str, str, str]] = field(default_factory=list)  # (field, before, after)

    @classmethod
    def between(cls, before: Signature, after: Signature) -> ColumnChanges:
        return cls(
            added=[f for f in after if f not in before],
            removed=[f for f in before if f not in after],
            retyped=[(f, before[f], t) for f, t in after.items() if f in before and before[f] != t],
        )

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.retyped)

    def describe(self) -> list[str]:
        lines = []
        if self.added:
            lines.append(f"columns added: {', '.join(self.added)}")
        if self.removed:
            lines.append(f"columns removed: {', '.join(self.removed)}")
        if self.retyped:
            lines.append(
                "columns retyped: "
                + ", ".join(f"{f} ({before} to {after})" for f, before, after in self.retyped)
            )
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "removed": self.removed,
                "retyped": [list(r) for r in self.retyped]}  # fmt: skip


def apply_column_changes(
    client: SocrataClient, portal_id: str, dataset: DatasetSpec
) -> ColumnChanges:
    """Give the portal dataset the spec's columns: remove columns the spec dropped, re-create
    retyped ones with their new type and add new ones (the publish that follows fills them).
    Called only for changes a reviewer approved, or on datasets the public cannot see."""
    view = client.get_metadata(portal_id)
    changes = ColumnChanges.between(portal_signature(view), spec_signature(dataset))
    ids = {c.get("fieldName"): c.get("id") for c in view.get("columns") or []}
    spec = {c.field: c for c in dataset.columns}
    retyped = [f for f, _, _ in changes.retyped]
    for field_name in [*changes.removed, *retyped]:
        _delete_column(client, portal_id, field_name, ids[field_name])
    for field_name in [*retyped, *changes.added]:
        c = spec[field_name]
        client.add_column(portal_id, PortalColumn(c.field, c.name, c.type, c.description))
    for line in changes.describe():
        log.info("Dataset %s: %s.", portal_id, line)
    return changes


def _delete_column(client: SocrataClient, portal_id: str, field_name: str, column_id: Any) -> None:
    try:
        client.delete_column(portal_id, int(column_id))
    except PortalRefusedError as exc:
        if exc.status != 404:  # 404: already gone (a retried delete)
            raise
    log.info("Dataset %s: removed column %s.", portal_id, field_name)
