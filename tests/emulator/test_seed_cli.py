"""Seed files and the exact `ctdata emulator` command line (serve and seed forms)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from socrata_emulator.seed import SeedError, seed_data_dir
from socrata_emulator.testing import run_emulator, sodapy_client

CTDATA = str(Path(sys.executable).with_name("ctdata"))
SEED = {
    "datasets": [
        {
            "id": "rybz-nyjw",
            "name": "Accidental Drug Related Deaths",
            "owner": "ocme@ct.gov",
            "public": True,
            "published": True,
            "description": "Deaths",
            "category": "Health and Human Services",
            "tags": ["overdose"],
            "rowIdentifier": "record_id",
            "columns": [
                {
                    "fieldName": "record_id",
                    "name": "Record ID",
                    "dataTypeName": "text",
                    "description": "Case number",
                },
                {"fieldName": "age", "name": "Age", "dataTypeName": "number"},
            ],
            "rows": [{"record_id": "1", "age": 40}, {"record_id": "2", "age": 51}],
        },
        {
            "id": "priv-0001",
            "name": "Private one",
            "owner": "ocme@ct.gov",
            "public": False,
            "published": False,
            "columns": [{"fieldName": "x", "name": "X"}],
        },
    ]
}


def test_seed_then_serve_with_fixed_ids(tmp_path):
    seed_path = tmp_path / "seed.yaml"
    seed_path.write_text(yaml.safe_dump(SEED))
    with run_emulator(tmp_path / "data", users=["ocme@ct.gov:pw"], seed=seed_path) as emu:
        anon = sodapy_client(emu)
        view = anon.get_metadata("rybz-nyjw")
        assert view["name"] == "Accidental Drug Related Deaths"
        assert (
            view["publicationStage"] == "published"
            and view["category"] == "Health and Human Services"
        )
        assert view["columns"][0]["description"] == "Case number"
        assert anon.get("rybz-nyjw", order="record_id") == [
            {"record_id": "1", "age": "40"},
            {"record_id": "2", "age": "51"},
        ]
        assert [r["resource"]["id"] for r in anon.datasets(ids=["rybz-nyjw", "priv-0001"])] == [
            "rybz-nyjw"
        ]
        owner = sodapy_client(emu, "ocme@ct.gov", "pw")
        assert owner.get_metadata("priv-0001")["publicationStage"] == "unpublished"
        owner.upsert("rybz-nyjw", [{"record_id": "3", "age": 33}])


def test_reseed_updates_metadata_adds_columns_keeps_rows(tmp_path):
    seed_data_dir(tmp_path, SEED)
    changed = yaml.safe_load(yaml.safe_dump(SEED))
    entry = changed["datasets"][0]
    entry["name"] = "Renamed"
    entry["columns"].append({"fieldName": "town", "name": "Town"})
    entry["rows"] = [{"record_id": "2", "town": "Bristol"}]
    seed_data_dir(tmp_path, changed)
    with run_emulator(tmp_path) as emu:
        anon = sodapy_client(emu)
        view = anon.get_metadata("rybz-nyjw")
        assert view["name"] == "Renamed"
        assert [c["fieldName"] for c in view["columns"]] == ["record_id", "age", "town"]
        assert anon.get("rybz-nyjw", order="record_id") == [
            {"record_id": "1", "age": "40"},
            {"record_id": "2", "age": "51", "town": "Bristol"},
        ]


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"id": "BAD", "name": "x", "owner": "a@b"}, ["datasets[1]", "'BAD'", "four-by-four"]),
        ({"id": "abcd-1234", "owner": "a@b"}, ["abcd-1234", "'name'"]),
        (
            {
                "id": "abcd-1234",
                "name": "x",
                "owner": "a@b",
                "columns": [{"fieldName": "c", "dataTypeName": "blob"}],
            },
            ["abcd-1234", "blob"],
        ),
    ],
)
def test_seed_errors_name_the_entry(tmp_path, entry, words):
    with pytest.raises(SeedError) as err:
        seed_data_dir(tmp_path, {"datasets": [entry]})
    for word in words:
        assert word in str(err.value)


def test_ctdata_emulator_command_line(tmp_path):
    seed_path = tmp_path / "seed.yaml"
    seed_path.write_text(yaml.safe_dump(SEED))
    data = tmp_path / "data"
    done = subprocess.run(
        [CTDATA, "emulator", "seed", str(seed_path), "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "rybz-nyjw" in done.stdout
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "ctdata.cli",
            "emulator",
            "seed",
            str(tmp_path / "missing.yaml"),
            "--data-dir",
            str(data),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "missing.yaml" in bad.stderr
    proc = subprocess.Popen(
        [
            CTDATA,
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            str(data),
            "--user",
            "ocme@ct.gov:pw",
            "--app-token",
            "tok",
            "--latency-ms",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("Serving Socrata stand-in on http://127.0.0.1:")
        port = int(line.strip().rsplit(":", 1)[1])
        import requests

        resp = requests.get(f"http://127.0.0.1:{port}/resource/rybz-nyjw.json", timeout=10)
        assert resp.status_code == 200 and len(resp.json()) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
