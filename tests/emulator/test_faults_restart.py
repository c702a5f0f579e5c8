"""Fault injection is a deterministic mix per seed; state survives a real process restart."""

from __future__ import annotations

import requests

from socrata_emulator.faults import FAULT_KINDS, fault_sequence
from socrata_emulator.testing import run_emulator, sodapy_client

ADMIN = ("admin@ct.gov", "pw")
SEED = {
    "datasets": [
        {
            "id": "flt1-test",
            "name": "Faults",
            "owner": ADMIN[0],
            "public": True,
            "rowIdentifier": "record_id",
            "columns": [{"fieldName": "record_id", "name": "Record ID", "dataTypeName": "text"}],
        }
    ]
}
N_WRITES, RATE, SEED_VALUE = 60, 0.5, 7
EXPECTED_STATUS = {None: 200, "500": 500, "502": 502, "503": 503, "429": 429, "applied_500": 500}


def _send_writes(url: str, n: int) -> list[object]:
    session = requests.Session()
    session.auth = ADMIN
    outcomes: list[object] = []
    for i in range(n):
        try:
            resp = session.post(
                f"{url}/resource/flt1-test.json", json=[{"record_id": f"w{i}"}], timeout=10
            )
        except requests.ConnectionError:
            outcomes.append("dropped")
            continue
        if resp.status_code == 429:
            assert resp.headers["Retry-After"] == "1"
        if resp.status_code != 200:
            assert resp.json()["error"] is True
        outcomes.append(resp.status_code)
    return outcomes


def test_fault_mix_is_deterministic_and_applied_500_commits(tmp_path):
    plan = fault_sequence(RATE, SEED_VALUE, N_WRITES)
    assert set(plan) == {None, *FAULT_KINDS}  # the seed exercises every kind of failure
    expected = ["dropped" if f == "drop" else EXPECTED_STATUS[f] for f in plan]
    with run_emulator(
        tmp_path, admins=[":".join(ADMIN)], seed=SEED, fault_rate=RATE, fault_seed=SEED_VALUE
    ) as emu:
        assert _send_writes(emu.url, N_WRITES) == expected
        client = sodapy_client(emu)
        for _ in range(3):  # reads are never faulted
            client.get("flt1-test", limit=1)
        stored = {r["record_id"] for r in client.get("flt1-test", limit=1000)}
        applied = {f"w{i}" for i, f in enumerate(plan) if f in (None, "applied_500")}
        assert stored == applied
        emu.restart()  # a fresh process replays the same sequence
        assert _send_writes(emu.url, 10) == expected[:10]


def test_state_survives_restart(tmp_path):
    with run_emulator(tmp_path, users=["u@ct.gov:pw"]) as emu:
        client = sodapy_client(emu, "u@ct.gov", "pw")
        view = client.create(
            "Persisted",
            columns=[
                {"name": "Key", "fieldName": "key"},
                {"name": "N", "fieldName": "n", "dataTypeName": "number"},
            ],
            row_identifier="key",
            new_backend=True,
        )
        ds = view["id"]
        client.upsert(ds, [{"key": "a", "n": 1}, {"key": "b", "n": 2.25}])
        client.update_metadata(
            ds, {"description": "kept", "metadata": {"custom_fields": {"F": {"x": "y"}}}}
        )
        client.publish(ds)
        requests.get(f"{emu.url}/d/{ds}", auth=("u@ct.gov", "pw"), timeout=10)
        port, pid = emu.port, emu.process.pid
        emu.restart()
        assert emu.port == port and emu.process.pid != pid
        client = sodapy_client(emu, "u@ct.gov", "pw")
        after = client.get_metadata(ds)
        assert after["description"] == "kept" and after["publicationStage"] == "published"
        assert after["metadata"] == {"custom_fields": {"F": {"x": "y"}}, "rowIdentifier": "key"}
        assert after["viewCount"] == 1
        assert client.get(ds, order="key") == [{"key": "a", "n": "1"}, {"key": "b", "n": "2.25"}]
        assert client.upsert(ds, [{"key": "a", "n": 5}])["Rows Updated"] == 1
        emu.stop()
        assert emu.process.returncode == 0  # SIGTERM is a clean shutdown
