"""Dataset attachments: files uploaded to /api/assets, listed in the view's
metadata.attachments and downloaded the way sodapy's `download_attachments` does."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.emulator.support import OWNER, make_dataset

CONTENT = b"field,meaning\r\nn,count of deaths\r\n\x00\xff binary-safe\n"


def _upload(emu, filename: str, content: bytes, auth=OWNER) -> requests.Response:
    return requests.post(
        f"{emu.url}/api/assets",
        files={"file": (filename, content, "text/csv")},
        auth=auth,
        timeout=10,
    )


def test_uploaded_file_is_attached_and_downloaded_with_sodapy(owner, anon, emu, tmp_path):
    ds = make_dataset(owner, "With a data dictionary", public=True)
    uploaded = _upload(emu, "data dictionary.csv", CONTENT)
    assert uploaded.status_code == 200
    asset = uploaded.json()
    assert asset["nameForOutput"] == "data dictionary.csv" and asset["id"]
    entry = {"assetId": asset["id"], "filename": "data dictionary.csv", "name": "Data dictionary"}
    owner.update_metadata(ds, {"metadata": {"attachments": [entry]}})
    assert owner.get_metadata(ds)["metadata"]["attachments"] == [entry]
    [path] = anon.download_attachments(ds, download_dir=str(tmp_path))
    assert path.endswith("data dictionary.csv") and Path(path).read_bytes() == CONTENT
    owner.update_metadata(ds, {"description": "Other metadata changes keep the attachments"})
    assert owner.get_metadata(ds)["metadata"]["attachments"] == [entry]


def test_older_blob_id_attachments_download_from_assets(owner, anon, emu, tmp_path):
    ds = make_dataset(owner, "Blob attachment", public=True)
    blob = _upload(emu, "notes.txt", b"notes").json()["id"]
    entry = {"blobId": blob, "filename": "notes.txt", "name": "notes.txt"}
    owner.update_metadata(ds, {"metadata": {"attachments": [entry]}})
    [path] = anon.download_attachments(ds, download_dir=str(tmp_path))
    assert Path(path).read_bytes() == b"notes"


def test_attachments_of_a_private_dataset_need_access(owner, emu):
    ds = make_dataset(owner, "Private attachment")
    asset = _upload(emu, "secret.csv", b"x").json()["id"]
    entry = {"assetId": asset, "filename": "secret.csv", "name": "secret.csv"}
    owner.update_metadata(ds, {"metadata": {"attachments": [entry]}})
    url = f"{emu.url}/api/views/{ds}/files/{asset}"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, auth=OWNER, timeout=10).content == b"x"
    other = make_dataset(owner, "Not attached here", public=True)
    assert requests.get(f"{emu.url}/api/views/{other}/files/{asset}", timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("attachments", "words"),
    [
        ([{"assetId": "0000DEAD-BEEF", "filename": "a.csv"}], "no uploaded file"),
        ([{"filename": "a.csv"}], "exactly one of 'assetId' or 'blobId'"),
        ([{"assetId": "x"}], "needs a 'filename'"),
        ("a.csv", "must be a list"),
    ],
)
def test_bad_attachment_lists_are_refused(owner, attachments, words):
    ds = make_dataset(owner, "Refuses bad attachments")
    with pytest.raises(requests.HTTPError) as refused:
        owner.update_metadata(ds, {"metadata": {"attachments": attachments}})
    assert refused.value.response.status_code == 400
    assert words in refused.value.response.json()["message"]
    assert "attachments" not in owner.get_metadata(ds)["metadata"]


def test_uploads_need_an_account_and_a_file(emu):
    assert _upload(emu, "a.csv", b"x", auth=None).status_code == 401
    raw = requests.post(f"{emu.url}/api/assets", data=b"x", auth=OWNER, timeout=10)
    assert raw.status_code == 400 and "multipart" in raw.json()["message"]
