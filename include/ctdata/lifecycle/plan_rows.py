"""The rows a publication would create, change and delete, from the publishing engine's own
planning (nothing is sent, and the state store is left as it was)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctdata.lifecycle.plan import EXAMPLES, RowChanges

if TYPE_CHECKING:
    from ctdata.lifecycle.columns import ColumnChanges
    from ctdata.portal.client import SocrataClient
    from ctdata.specs import DatasetSpec


def new_dataset_rows(path: Any) -> RowChanges:
    """A dataset not on the portal yet: every publishable row would be created."""
    rows, examples = _head(path, EXAMPLES)
    return RowChanges(rows=rows, created=rows, changed=0, deleted=0, created_examples=examples)


def _head(path: Any, n: int) -> tuple[int, list[dict[str, Any]]]:
    import pyarrow.parquet as pq

    with path.open("rb") as handle, pq.ParquetFile(handle) as pf:
        rows = int(pf.metadata.num_rows)
        first = next(pf.iter_batches(batch_size=n), None)
        return rows, first.to_pylist()[:n] if first is not None else []


def row_changes(
    client: SocrataClient,
    portal_id: str,
    path: Any,
    dataset: DatasetSpec,
    columns: ColumnChanges,
) -> RowChanges:
    raise NotImplementedError("waiting for the publishing engine's planning API (branch portal)")
