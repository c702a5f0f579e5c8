"""Files attached to a dataset on the portal (a data dictionary, a methodology note): Socrata's
dataset attachments, the "Attachments" field of the CT metadata schema.

A file is uploaded to `/api/assets` (multipart; the portal answers `{"id", "nameForOutput"}`) and
listed in the view's `metadata.attachments` as `{"assetId", "filename", "name"}`: the shapes
Socrata's own clients use (soda-java's `SodaDdl.addAsset` and `Attachment`, sodapy's
`download_attachments`). A dataset holds one attachment per file name: attaching the same name
again replaces the file, and attaching identical bytes changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctdata.errors import PortalRefusedError

if TYPE_CHECKING:
    from ctdata.portal.client import SocrataClient

ASSETS_PATH = "/api/assets"


@dataclass(frozen=True)
class AttachmentResult:
    attachment: dict[str, str]  # as listed in the view's metadata.attachments
    changed: bool  # False: these bytes were already attached under this file name and name


def upload_attachment(
    client: SocrataClient,
    dataset_id: str,
    filename: str,
    content: bytes,
    *,
    name: str | None = None,
    content_type: str = "application/octet-stream",
) -> AttachmentResult:
    """Attach `content` to the dataset as `filename` (shown as `name`), replacing an attachment
    of the same file name; nothing is sent when the same bytes are attached already."""
    view = client.get_metadata(dataset_id)
    metadata = dict(view.get("metadata") or {})
    attachments = [dict(a) for a in metadata.get("attachments") or []]
    label = name or filename
    same_name = [i for i, a in enumerate(attachments) if a.get("filename") == filename]
    if same_name:
        current = attachments[same_name[0]]
        if current.get("name") == label and _download(client, dataset_id, current) == content:
            return AttachmentResult(current, changed=False)
    files = {"file": (filename, content, content_type)}
    uploaded = client._request("post", ASSETS_PATH, files=files)
    entry = {"assetId": str(uploaded["id"]), "filename": filename, "name": label}
    attachments = [a for i, a in enumerate(attachments) if i not in same_name[1:]]
    if same_name:
        attachments[same_name[0]] = entry
    else:
        attachments.append(entry)
    # The whole metadata object goes back, as sync_metadata sends it, so nothing else is lost.
    client.update_metadata(dataset_id, {"metadata": {**metadata, "attachments": attachments}})
    return AttachmentResult(entry, changed=True)


def _download(client: SocrataClient, dataset_id: str, entry: dict[str, Any]) -> bytes | None:
    """An attachment's bytes, where sodapy's `download_attachments` fetches them (None when the
    file listed is gone)."""
    if entry.get("assetId"):
        path = f"/api/views/{dataset_id}/files/{entry['assetId']}"
    else:
        path = f"{ASSETS_PATH}/{entry.get('blobId')}"
    soda = client.soda

    def send() -> bytes:
        response = soda.session.get(
            f"{soda.uri_prefix}{soda.domain}{path}",
            params={"download": "true", "filename": entry.get("filename", "")},
            timeout=soda.timeout,
        )
        response.raise_for_status()
        return response.content

    try:
        return client._call("GET", path, send)
    except PortalRefusedError as exc:
        if exc.status == 404:
            return None
        raise
