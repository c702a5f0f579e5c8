"""`ctdata emulator --stale-reads`: SODA reads lag writes and say so in X-SODA2-Data-Out-Of-Date,
and the client exposes the header (sodapy's `get` drops it)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from ctdata.portal.client import SocrataClient
from ctdata.portal.connection import PortalConnection
from ctdata.portal.schema import PortalColumn

USER, PASSWORD = "dph@ct.gov", "pw-for-tests-3"
LAG = 3.0
RID = PortalColumn("rid", "Rid", "text")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from socrata_emulator.testing import run_emulator

    emu_dir = tmp_path_factory.mktemp("emu")
    with run_emulator(emu_dir, users=[f"{USER}:{PASSWORD}"], stale_reads=LAG) as emu:
        conn = PortalConnection.from_url(emu.url, username=USER, password=PASSWORD)
        with SocrataClient(conn, backoff_base_seconds=0.01) as client:
            yield client


def _until_fresh(client: SocrataClient, ds: str, timeout: float = 30.0) -> float:
    started = time.monotonic()
    while client.read_page(ds, select="count(*)", order=None).out_of_date:
        assert time.monotonic() - started < timeout
        time.sleep(0.1)
    return time.monotonic() - started


def test_reads_lag_writes_and_carry_the_header(client) -> None:
    ds = client.create_dataset("Lag", [PortalColumn("rid", "Rid", "text")], row_identifier="rid")[
        "id"
    ]
    fresh = client.read_page(ds)
    assert fresh.out_of_date is False and fresh.rows == []
    client.upsert(ds, [{"rid": "a"}, {"rid": "b"}])
    stale = client.read_page(ds)
    assert stale.out_of_date is True and stale.rows == [], "reads come from before the write"
    assert client.count_rows(ds) == 0
    client.upsert(ds, [{"rid": "c"}])  # a later write keeps the copy behind for LAG again
    waited = _until_fresh(client, ds)
    assert waited >= LAG * 0.5
    page = client.read_page(ds)
    assert page.out_of_date is False and sorted(r["rid"] for r in page.rows) == ["a", "b", "c"]
    assert client.count_rows(ds) == 3


def test_a_new_column_is_readable_at_once(client) -> None:
    ds = client.create_dataset("Cols", [RID], row_identifier="rid")["id"]
    client.upsert(ds, [{"rid": "a"}])
    _until_fresh(client, ds)
    client.upsert(ds, [{"rid": "b"}])  # the copy now holds "a" only
    client.add_column(ds, PortalColumn("n", "N", "number"))
    client.upsert(ds, [{"rid": "a", "n": 1}])
    page = client.read_page(ds, select="rid,n")  # the copy predates the column: caught up
    assert page.rows == [{"rid": "a", "n": "1"}, {"rid": "b"}] and page.out_of_date is False


def test_flag_is_checked() -> None:
    cmd = [
        sys.executable,
        "-m",
        "ctdata.cli",
        "emulator",
        "--data-dir",
        "/tmp/x",
        "--stale-reads",
        "-1",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "--stale-reads must be >= 0" in done.stderr
