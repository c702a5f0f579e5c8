"""SocrataClient against the stand-in over real HTTP: metadata, rows, paging, catalog, errors."""

from __future__ import annotations

import pytest

from ctdata.errors import PortalError
from ctdata.portal.client import SocrataClient
from ctdata.portal.connection import PortalConnection
from ctdata.portal.schema import PortalColumn, columns_from_metadata, row_identifier_from_metadata

USER, PASSWORD = "dph@ct.gov", "pw-for-tests-1"
COLS = [PortalColumn("rid", "Row", "text"), PortalColumn("n", "N", "number", "a count")]


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from socrata_emulator.testing import run_emulator

    with run_emulator(tmp_path_factory.mktemp("emu"), users=[f"{USER}:{PASSWORD}"]) as handle:
        yield handle


@pytest.fixture
def client(emu) -> SocrataClient:
    conn = PortalConnection.from_url(emu.url, username=USER, password=PASSWORD)
    return SocrataClient(conn, backoff_base_seconds=0.01)


def test_dataset_lifecycle_and_metadata(client) -> None:
    meta = client.create_dataset("Counts by town", COLS, row_identifier="rid", description="d")
    ds = meta["id"]
    assert columns_from_metadata(client.get_metadata(ds)) == COLS
    assert row_identifier_from_metadata(client.get_metadata(ds)) == "rid"
    client.update_metadata(ds, {"description": "Counts of things by town"})
    assert client.get_metadata(ds)["description"] == "Counts of things by town"
    client.publish(ds)
    assert client.get_metadata(ds)["publicationStage"] == "published"
    client.set_permission(ds, public=True)
    client.add_column(ds, PortalColumn("town", "Town", "text"))
    assert [c.field_name for c in columns_from_metadata(client.get_metadata(ds))][-1] == "town"


def test_rows_upsert_replace_delete_and_paged_reads(client) -> None:
    ds = client.create_dataset("Rows", COLS, row_identifier="rid")["id"]
    answer = client.upsert(ds, [{"rid": f"r{i:03d}", "n": i} for i in range(250)])
    assert answer["Rows Created"] == 250
    client.upsert(ds, b'[{"rid": "r001", "n": 1000}, {"rid": "r002", ":deleted": true}]')
    client.delete_row(ds, "r003")
    rows = list(client.read_rows(ds, page_size=40))
    assert len(rows) == 248 and len({r["rid"] for r in rows}) == 248
    assert {r["rid"]: float(r["n"]) for r in rows}["r001"] == 1000
    assert client.count_rows(ds) == 248
    assert [r["rid"] for r in client.read_rows(ds, where="n > 245", order="rid")] == [
        "r001", "r246", "r247", "r248", "r249",
    ]  # fmt: skip
    client.replace(ds, [{"rid": "only", "n": 1}])
    assert client.count_rows(ds) == 1
    assert client.stats.requests > 5 and client.stats.bytes_sent > 1000


def test_catalog_pages_through_every_dataset(client) -> None:
    made = {client.create_dataset(f"Cat {i}", COLS)["id"] for i in range(5)}
    found = [r["resource"]["id"] for r in client.catalog(page_size=2)]
    assert made <= set(found) and len(found) == len(set(found))
    only = [r["resource"]["id"] for r in client.catalog(ids=sorted(made)[:2])]
    assert sorted(only) == sorted(made)[:2]


def test_refusals_carry_the_portal_message(emu, client) -> None:
    with pytest.raises(PortalError, match="404"):
        client.get_metadata("zzzz-9999")
    anonymous = SocrataClient(PortalConnection.from_url(emu.url))
    ds = client.create_dataset("Private", COLS)["id"]
    with pytest.raises(PortalError, match="must be logged in"):
        anonymous.upsert(ds, [{"rid": "x"}])
    wrong = PortalConnection.from_url(emu.url, username=USER, password="not-the-password")
    with pytest.raises(PortalError) as err:
        SocrataClient(wrong).upsert(ds, [{"rid": "x"}])
    assert "not-the-password" not in str(err.value)
