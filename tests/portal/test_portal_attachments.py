"""SocrataClient.upload_attachment against the stand-in over real HTTP: the file lands in the
view's metadata.attachments where sodapy downloads it, one attachment per file name, a second
identical upload sends nothing, and other metadata survives."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ctdata.errors import PortalRefusedError
from ctdata.portal.client import SocrataClient
from ctdata.portal.connection import PortalConnection
from ctdata.portal.schema import PortalColumn

USER, PASSWORD = "ocme@ct.gov", "pw-for-attachments"
DICTIONARY = b"field,meaning\r\ndeaths,accidental drug related deaths\r\n"

logging.getLogger("sodapy").setLevel(logging.ERROR)


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from socrata_emulator.testing import run_emulator

    with run_emulator(tmp_path_factory.mktemp("emu"), users=[f"{USER}:{PASSWORD}"]) as handle:
        yield handle


@pytest.fixture
def client(emu) -> SocrataClient:
    conn = PortalConnection.from_url(emu.url, username=USER, password=PASSWORD)
    return SocrataClient(conn, backoff_base_seconds=0.01)


@pytest.fixture
def dataset(client) -> str:
    columns = [PortalColumn("town", "Town", "text"), PortalColumn("deaths", "Deaths", "number")]
    ds = client.create_dataset("Deaths by town", columns, row_identifier="town")["id"]
    custom = {"Dataset Information": {"Agency": "OCME"}}
    client.update_metadata(ds, {"metadata": {"custom_fields": custom, "rowIdentifier": "town"}})
    client.set_permission(ds, public=True)
    return ds


def test_attachment_is_listed_and_downloads_with_sodapy(client, dataset, emu, tmp_path: Path):
    from socrata_emulator.testing import sodapy_client

    result = client.upload_attachment(
        dataset, "data_dictionary.csv", DICTIONARY, name="Data dictionary", content_type="text/csv"
    )
    assert result.changed
    assert result.attachment == {
        "assetId": result.attachment["assetId"],
        "filename": "data_dictionary.csv",
        "name": "Data dictionary",
    }
    metadata = client.get_metadata(dataset)["metadata"]
    assert metadata["attachments"] == [result.attachment]
    assert metadata["custom_fields"] == {"Dataset Information": {"Agency": "OCME"}}
    assert metadata["rowIdentifier"] == "town"
    [path] = sodapy_client(emu).download_attachments(dataset, download_dir=str(tmp_path))
    assert Path(path).read_bytes() == DICTIONARY


def test_same_file_again_sends_nothing_and_a_new_version_replaces_it(client, dataset):
    first = client.upload_attachment(dataset, "dictionary.csv", DICTIONARY)
    client.upload_attachment(dataset, "methodology.txt", b"how the counts are made")
    requests_before = client.stats.requests
    again = client.upload_attachment(dataset, "dictionary.csv", DICTIONARY)
    assert not again.changed and again.attachment == first.attachment
    assert client.stats.requests - requests_before == 2  # read the view, fetch the file
    newer = client.upload_attachment(dataset, "dictionary.csv", DICTIONARY + b"n,count\r\n")
    assert newer.changed and newer.attachment["assetId"] != first.attachment["assetId"]
    listed = client.get_metadata(dataset)["metadata"]["attachments"]
    assert [a["filename"] for a in listed] == ["dictionary.csv", "methodology.txt"]
    assert listed[0] == newer.attachment


def test_a_new_display_name_is_a_change(client, dataset):
    client.upload_attachment(dataset, "dictionary.csv", DICTIONARY)
    renamed = client.upload_attachment(dataset, "dictionary.csv", DICTIONARY, name="Dictionary")
    assert renamed.changed
    listed = client.get_metadata(dataset)["metadata"]["attachments"]
    assert [(a["filename"], a["name"]) for a in listed] == [("dictionary.csv", "Dictionary")]


def test_attaching_to_a_missing_dataset_is_refused_with_its_status(client):
    with pytest.raises(PortalRefusedError) as refused:
        client.upload_attachment("zzzz-9999", "dictionary.csv", DICTIONARY)
    assert refused.value.status == 404 and "zzzz-9999" in str(refused.value)
