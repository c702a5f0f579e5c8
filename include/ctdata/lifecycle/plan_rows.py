"""The rows a publication would create, change and delete, from the publishing engine's own
planning (nothing is sent, and the state store is left as it was)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctdata.lifecycle.plan import EXAMPLES, RowChanges

if TYPE_CHECKING:
    from ctdata.lifecycle.columns import ColumnChanges
    from ctdata.portal.client import SocrataClient
    from ctdata.publishing.state import StateStore
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
    state: StateStore,
) -> RowChanges:
    """The publisher's own plan for the dataset (`Publisher.preview`) against the fingerprints
    in `state`, with the portal's current values beside the new ones for the changed examples."""
    from ctdata.portal.schema import PortalColumn
    from ctdata.publishing import Publisher

    if columns.removed or columns.retyped:
        rows, _ = _head(path, 0)
        note = "columns are removed or retyped: once OPM approves, every row is sent again"
        return RowChanges(rows=rows, created=0, changed=rows, deleted=0, note=note)
    spec = [PortalColumn(c.field, c.name, c.type, c.description) for c in dataset.columns]
    preview = Publisher(client, state).preview(
        portal_id, path, columns=spec, method=dataset.publish.method,
        row_id=dataset.row_identifier, allow_new_columns=True, examples=EXAMPLES,
    )  # fmt: skip
    rid = dataset.row_identifier
    return RowChanges(
        rows=preview.rows,
        created=preview.created,
        changed=preview.changed,
        deleted=preview.deleted,
        created_examples=[_plain(r) for r in preview.created_rows],
        changed_examples=_changes(client, portal_id, rid, preview.changed_rows) if rid else [],
        deleted_examples=preview.deleted_ids,
        note="every row is sent again (no row identifier)" if preview.full_replace else "",
    )


def _changes(
    client: SocrataClient, portal_id: str, rid: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each changed row's differing fields as {field: [portal value, new value]}."""
    if not rows:
        return []
    keys = ", ".join("'" + str(r[rid]).replace("'", "''") + "'" for r in rows)
    current = {str(r.get(rid)): r for r in client.read_rows(portal_id, where=f"{rid} in ({keys})")}
    out = []
    for row in rows:
        before = current.get(str(row[rid]), {})
        diff = {f: [_text(before.get(f)), _text(v)] for f, v in row.items()
                if _text(before.get(f)) != _text(v)}  # fmt: skip
        out.append({"_key": str(row[rid]), **diff})
    return out


def _text(value: Any) -> str | None:
    """A value as the portal's JSON spells it (numbers and dates as strings)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return str(value.get("url") or value)
    return str(value)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | int | float | bool) or v is None else str(v)
            for k, v in row.items()}  # fmt: skip
