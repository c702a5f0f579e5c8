"""publish_parquet against the stand-in: change-only sends, methods, read-back and reconcile."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from ctdata.publishing import PublishingState, publish_parquet
from tests.publishing.support import (
    COLUMNS,
    client_for,
    create_dataset,
    make_rows,
    portal_multiset,
    source_multiset,
    write_parquet,
)


def _publish(client, ds, path, state, method="upsert", **kw):
    kw.setdefault("chunk_rows", 500)
    return publish_parquet(
        client, ds, path, columns=COLUMNS, method=method, row_id=kw.pop("row_id", None),
        state=state, **kw,
    )  # fmt: skip


def test_refresh_sends_only_changed_rows(portal, state: PublishingState, tmp_path: Path) -> None:
    client = client_for(portal.url)
    ds = create_dataset(client)
    rows = make_rows(3000)
    first = _publish(client, ds, write_parquet(tmp_path / "a.parquet", rows), state)
    assert (first.created, first.updated, first.unchanged) == (3000, 0, 0)
    assert first.chunks == 6 and first.verified is True

    rows[10]["deaths"] = "999"
    rows[20]["town"] = "Changed"
    rows.append(make_rows(1, start=5000)[0])
    second = _publish(client, ds, write_parquet(tmp_path / "b.parquet", rows), state)
    assert (second.created, second.updated, second.deleted) == (1, 2, 0)
    assert second.unchanged == 2998
    assert 0 < second.bytes_sent < first.bytes_sent / 100
    assert portal_multiset(client, ds) == source_multiset(rows)

    third = _publish(client, ds, write_parquet(tmp_path / "c.parquet", rows), state)
    assert (third.created, third.updated, third.bytes_sent, third.chunks) == (0, 0, 0, 0)


def test_sync_deletes_rows_that_left_the_source(portal, state, tmp_path) -> None:
    client = client_for(portal.url)
    ds = create_dataset(client)
    rows = make_rows(1200)
    _publish(client, ds, write_parquet(tmp_path / "a.parquet", rows), state, method="sync")
    kept = rows[:1000] + rows[1100:]
    result = _publish(client, ds, write_parquet(tmp_path / "b.parquet", kept), state, method="sync")
    assert result.deleted == 100 and result.created == 0 and result.updated == 0
    assert portal_multiset(client, ds) == source_multiset(kept)
    # upsert never deletes
    again = _publish(client, ds, write_parquet(tmp_path / "c.parquet", kept[:10]), state)
    assert again.deleted == 0 and sum(portal_multiset(client, ds).values()) == len(kept)


def test_lost_state_rebuilds_from_portal_and_sends_nothing(portal, tmp_path) -> None:
    client = client_for(portal.url)
    ds = create_dataset(client)
    rows = make_rows(2500)
    path = write_parquet(tmp_path / "a.parquet", rows)
    _publish(client, ds, path, PublishingState(f"sqlite:///{tmp_path / 's1.db'}"), method="sync")
    fresh = PublishingState(f"sqlite:///{tmp_path / 's2.db'}")  # the state DB was lost
    result = _publish(client, ds, path, fresh, method="sync")
    assert result.rows_read_back == 2500
    assert (result.created, result.updated, result.deleted, result.bytes_sent) == (0, 0, 0, 0)
    assert result.unchanged == 2500
    assert portal_multiset(client, ds) == source_multiset(rows)


def test_reconcile_repairs_hand_edits(portal, state, tmp_path) -> None:
    client = client_for(portal.url)
    ds = create_dataset(client)
    rows = make_rows(800)
    path = write_parquet(tmp_path / "a.parquet", rows)
    _publish(client, ds, path, state, method="sync")
    # Someone edits one row and deletes another on the portal, keeping the row count equal.
    client.upsert(ds, [{"record_id": rows[5]["record_id"], "deaths": 12345}])
    client.upsert(ds, [{"record_id": rows[6]["record_id"], ":deleted": True}])
    client.upsert(ds, [{"record_id": "HANDMADE", "town": "x"}])
    assert state.reconcile_due(ds)
    result = _publish(client, ds, path, state, method="sync", reconcile=True)
    assert (result.created, result.updated, result.deleted) == (1, 1, 1)
    assert portal_multiset(client, ds) == source_multiset(rows)
    assert not state.reconcile_due(ds)


def test_row_count_drift_triggers_read_back_without_reconcile(portal, state, tmp_path) -> None:
    client = client_for(portal.url)
    ds = create_dataset(client)
    rows = make_rows(300)
    path = write_parquet(tmp_path / "a.parquet", rows)
    _publish(client, ds, path, state, method="sync")
    client.upsert(ds, [{"record_id": rows[0]["record_id"], ":deleted": True}])
    result = _publish(client, ds, path, state, method="sync")
    assert result.rows_read_back == 299 and result.created == 1
    assert portal_multiset(client, ds) == source_multiset(rows)


def test_append_is_exactly_once_and_keeps_duplicates(portal, state, tmp_path) -> None:
    client = client_for(portal.url)
    ds = create_dataset(client, row_identifier=None)
    rows = make_rows(400) + make_rows(5)  # five rows appear twice on purpose
    path = write_parquet(tmp_path / "a.parquet", rows)
    first = _publish(client, ds, path, state, method="append")
    assert first.created == 405
    again = _publish(client, ds, path, state, method="append")
    assert again.created == 0 and again.bytes_sent == 0
    grown = rows + make_rows(50, start=400)
    third = _publish(client, ds, write_parquet(tmp_path / "b.parquet", grown), state, "append")
    assert third.created == 50
    assert portal_multiset(client, ds) == source_multiset(grown)


@pytest.mark.parametrize("row_identifier", [None, "record_id"])
def test_replace_converges(portal, state, tmp_path, row_identifier) -> None:
    client = client_for(portal.url)
    ds = create_dataset(client, row_identifier=row_identifier)
    old = make_rows(600)
    _publish(client, ds, write_parquet(tmp_path / "a.parquet", old), state, method="replace")
    new = make_rows(300, start=200, version=1)
    result = _publish(client, ds, write_parquet(tmp_path / "b.parquet", new), state, "replace")
    assert result.verified is True
    assert portal_multiset(client, ds) == source_multiset(new)


def test_allow_new_columns_adds_them(portal, state, tmp_path) -> None:
    from ctdata.portal.schema import PortalColumn

    client = client_for(portal.url)
    ds = create_dataset(client)
    rows = make_rows(50)
    for i, r in enumerate(rows):
        r["notes"] = f"note {i}"
    columns = [*COLUMNS, PortalColumn("notes", "Notes", "text")]
    path = write_parquet(tmp_path / "a.parquet", rows, [c.field_name for c in columns])
    result = publish_parquet(
        client, ds, path, columns=columns, method="upsert", row_id="record_id", state=state,
        allow_new_columns=True,
    )  # fmt: skip
    assert result.columns_added == ["notes"] and result.created == 50
    meta = client.get_metadata(ds)
    assert "notes" in [c["fieldName"] for c in meta["columns"]]
    assert {r.get("notes") for r in client.read_rows(ds)} == {f"note {i}" for i in range(50)}


def test_accepts_object_storage_paths(portal, state, tmp_path) -> None:
    """The DAG hands over an ObjectStoragePath: anything with .open("rb") works."""

    class StoragePath:
        protocol = "file"

        def __init__(self, path: Path) -> None:
            self.path = path

        def open(self, mode: str):
            return self.path.open(mode)

    client = client_for(portal.url)
    ds = create_dataset(client)
    rows = make_rows(40)
    staged = StoragePath(write_parquet(tmp_path / "a.parquet", rows))
    result = _publish(client, ds, staged, state, method="sync")
    assert result.created == 40 and result.as_dict()["rows_in_source"] == 40
    assert json.loads(json.dumps(result.as_dict())) == result.as_dict()  # XCom-safe
    assert state.journal_entries(ds)[0]["status"] == "succeeded"


def test_task_log_tells_what_happened(portal, state, tmp_path, caplog) -> None:
    """The log a data officer reads in the Airflow UI: rows, plan, chunks, deletions, check."""
    caplog.set_level(logging.INFO, logger="ctdata")
    client = client_for(portal.url)
    ds = create_dataset(client)
    rows = make_rows(1200)
    _publish(client, ds, write_parquet(tmp_path / "a.parquet", rows), state, method="sync")
    caplog.clear()
    rows[7]["deaths"] = "4321"
    _publish(client, ds, write_parquet(tmp_path / "b.parquet", rows[:1100]), state, method="sync")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert f"Publishing 1,100 rows to dataset {ds} (sync, rows matched by record_id)" in text
    assert "1,100 row(s) in the source: 1,099 unchanged, 0 new, 1 changed; 100 to delete" in text
    assert "Chunk 1 sent: 1 row(s)" in text and "the portal created 0 and updated 1" in text
    assert "100 deletion(s) of rows that left the source; the portal deleted 100" in text
    assert "Verified: the portal holds 1,100 row(s), as expected" in text
    assert (
        f"Published dataset {ds}: rows created 0, updated 1, deleted 100, unchanged 1,099" in text
    )


def test_reading_the_source_does_not_keep_what_it_read(tmp_path) -> None:
    """Memory stays bounded by a batch, not the file: Parquet's pre-buffering cache would keep
    every row group read so far (the publisher's RSS then grows with the file)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ctdata.publishing.source import open_parquet

    path = tmp_path / "groups.parquet"
    rng = np.random.default_rng(0)
    with pq.ParquetWriter(path, pa.schema([("id", pa.string()), ("x", pa.float64())])) as out:
        for group in range(40):
            ids = pa.array([f"R{group}-{i}" for i in range(20_000)])
            out.write_table(pa.table({"id": ids, "x": rng.random(20_000)}))
    base, peak = pa.total_allocated_bytes(), 0
    with open_parquet(path) as pf:
        for _batch in pf.iter_batches(batch_size=5_000):
            peak = max(peak, pa.total_allocated_bytes() - base)
    assert peak < path.stat().st_size / 4
