"""Concurrent clients: parallel upserts all land, and row writes never undo metadata edits."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from socrata_emulator.testing import sodapy_client
from tests.emulator.support import OWNER, TOKEN, make_dataset


def test_parallel_upserts_and_metadata_updates(owner, emu):
    ds = make_dataset(owner, "Concurrent")

    def write(batch: int) -> dict:
        client = sodapy_client(emu, *OWNER, app_token=TOKEN)
        result = client.upsert(ds, [{"record_id": f"{batch}-{i}", "deaths": i} for i in range(500)])
        client.update_metadata(ds, {"description": f"batch {batch}", "tags": [f"t{batch}"]})
        return result

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(write, range(12)))
    assert all(r["Rows Created"] == 500 and r["Errors"] == 0 for r in results)
    assert owner.get(ds, select="count(*)") == [{"count": "6000"}]
    view = owner.get_metadata(ds)
    batch = int(view["description"].split()[1])
    assert view["tags"] == [f"t{batch}"]  # the last metadata write wins as a whole
