"""Previews: what a publication would send, found by the publisher's own guards and diffing,
with nothing sent and the state store left as it was.

When the stored fingerprints cannot be trusted (a first publish, a new state store) the portal's
rows are read back into a scratch store in a temporary folder, as `publish` would read them
into the real one.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ctdata.publishing.changes import ChangeFinder
from ctdata.publishing.readback import PortalReader
from ctdata.publishing.result import PublishResult
from ctdata.publishing.source import open_parquet
from ctdata.publishing.state import PublishingState

if TYPE_CHECKING:
    from ctdata.publishing.publisher import Publisher, Request

AFTER_EVERY_ENTRY = 2**62  # a journal entry id later than any: "the latest" for a preview


@dataclass(frozen=True)
class Preview:
    """Counts of the rows a publication would create, change and delete, with a few of them
    (as the file holds them; deleted rows by their identifier)."""

    dataset_id: str
    rows: int
    created: int
    changed: int
    deleted: int
    full_replace: bool = False
    columns_added: list[str] = field(default_factory=list)
    created_rows: list[dict[str, Any]] = field(default_factory=list)
    changed_rows: list[dict[str, Any]] = field(default_factory=list)
    deleted_ids: list[str] = field(default_factory=list)


def preview_publication(
    publisher: Publisher, request: Request, parquet_path: str | os.PathLike[str] | Any,
    examples: int = 3,
) -> Preview:  # fmt: skip
    """The changes `publisher.publish` would make for `request`, sending nothing."""
    result = PublishResult(dataset_id=request.dataset_id, method=request.method)
    with open_parquet(parquet_path) as pf, tempfile.TemporaryDirectory() as scratch:
        target, to_add = publisher._target(pf, request)
        state = publisher.state
        if ChangeFinder(target, state).read_back_reason(request.reconcile, AFTER_EVERY_ENTRY):
            state = PublishingState(f"sqlite:///{os.path.join(scratch, 'preview.db')}")
            PortalReader(publisher.client, state, target, result, publisher.fresh_reads).rebuild()
        try:
            changes = ChangeFinder(target, state).find(result, guards=True)
            changed = changes.send & ~changes.new
            source = target.source
            ids = state.row_ids(request.dataset_id, changes.delete_keys[:examples])
            return Preview(
                dataset_id=request.dataset_id,
                rows=source.num_rows,
                created=int(changes.new.sum()),
                changed=int(changed.sum()),
                deleted=len(changes.delete_keys),
                full_replace=changes.full_replace,
                columns_added=[c.field_name for c in to_add],
                created_rows=[r for _, r in source.rows_at(np.flatnonzero(changes.new), examples)],
                changed_rows=[r for _, r in source.rows_at(np.flatnonzero(changed), examples)],
                deleted_ids=sorted(str(i) for i in ids.values() if i is not None),
            )
        finally:
            if state is not publisher.state:
                state.dispose()
