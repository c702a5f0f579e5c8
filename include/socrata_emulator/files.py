"""Files attached to datasets (Socrata's "attachments", e.g. a data dictionary): blobs uploaded to
`/api/assets` and listed in the view's `metadata.attachments`.

Shapes as Socrata's own clients use them: soda-java's `SodaDdl.addAsset` (multipart POST
/api/assets answered with `{"id", "nameForOutput"}`) and `Attachment` model (`assetId`, `name`,
`filename`); a view read from a real portal (`metadata.attachments: [{"blobId", "name",
"filename"}]`, the older spelling); sodapy's `download_attachments` (GET
`/api/views/{id}/files/{assetId}?download=true&filename=...`, or `/api/assets/{blobId}`).
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

from socrata_emulator.models import Dataset, bad_request, not_found
from socrata_emulator.wire import Request, Response, json_response, unauthenticated

if TYPE_CHECKING:
    from socrata_emulator.store import Store

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
_BLOB_ID = re.compile(r"^[0-9A-Fa-f-]{8,64}$")


@dataclass(frozen=True)
class Blob:
    id: str
    filename: str
    content_type: str
    data: bytes


class BlobStore:
    """Uploaded files: bytes under `<data dir>/assets/`, their names in the portal's database."""

    def __init__(self, store: Store):
        self.store = store
        self.folder = store.data_dir / "assets"
        with store.lock:
            store.conn.execute(
                "CREATE TABLE IF NOT EXISTS _assets (id TEXT PRIMARY KEY, filename TEXT, "
                "content_type TEXT, size INTEGER, owner TEXT, created INTEGER)"
            )

    def put(self, filename: str, content_type: str, data: bytes, owner: str) -> str:
        blob_id = str(uuid.uuid4()).upper()
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / blob_id).write_bytes(data)
        with self.store.tx() as conn:
            conn.execute(
                "INSERT INTO _assets VALUES (?, ?, ?, ?, ?, ?)",
                (blob_id, filename, content_type, len(data), owner, int(time.time())),
            )
        return blob_id

    def get(self, blob_id: str) -> Blob | None:
        if not _BLOB_ID.match(blob_id):
            return None
        with self.store.lock:
            row = self.store.conn.execute(
                "SELECT filename, content_type FROM _assets WHERE id = ?", (blob_id.upper(),)
            ).fetchone()
        if row is None:
            return None
        return Blob(blob_id.upper(), row[0], row[1], (self.folder / blob_id.upper()).read_bytes())

    def exists(self, blob_id: str) -> bool:
        with self.store.lock:
            found = self.store.conn.execute(
                "SELECT 1 FROM _assets WHERE id = ?", (str(blob_id).upper(),)
            ).fetchone()
        return found is not None


class FileEndpoints:
    """Upload and download of attachment files (mixed into PortalApi)."""

    blobs: BlobStore

    def _readable(self, user: str | None, ds_id: str) -> Dataset:  # provided by PortalApi
        raise NotImplementedError

    def upload_asset(self, req: Request, user: str | None) -> Response:
        """`POST /api/assets`: store one uploaded file; the answer names it for attachments."""
        if user is None:
            raise unauthenticated()
        filename, content_type, data = _uploaded_file(req)
        blob_id = self.blobs.put(filename, content_type, data, user)
        return json_response({"id": blob_id, "nameForOutput": filename})

    def get_asset(self, req: Request, user: str | None, blob_id: str) -> Response:
        """`GET /api/assets/{id}`: the file's bytes (the older `blobId` attachments)."""
        blob = self.blobs.get(blob_id)
        if blob is None:
            raise not_found(f"asset {blob_id}")
        return _file_response(blob, blob.filename)

    def view_file(self, req: Request, user: str | None, ds_id: str, asset_id: str) -> Response:
        """`GET /api/views/{id}/files/{assetId}`: an attachment of a dataset the caller can read."""
        ds = self._readable(user, ds_id)
        listed = next((a for a in ds.attachments if asset_id in _ids(a)), None)
        blob = self.blobs.get(asset_id) if listed else None
        if blob is None:
            raise not_found(f"file {asset_id} of view {ds_id}")
        return _file_response(blob, req.param("filename") or listed["filename"])

    def checked_attachments(self, body: Any) -> None:
        """Refuse a view update whose `metadata.attachments` is malformed or names no upload."""
        meta = body.get("metadata") if isinstance(body, dict) else None
        if not isinstance(meta, dict) or "attachments" not in meta:
            return
        entries = meta["attachments"]
        if not isinstance(entries, list):
            raise bad_request("metadata.attachments must be a list of attachments")
        for n, entry in enumerate(entries, start=1):
            where = f"metadata.attachments[{n}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
                raise bad_request(f"{where} needs a 'filename'")
            ids = _ids(entry)
            if len(ids) != 1:
                raise bad_request(f"{where} needs exactly one of 'assetId' or 'blobId'")
            if not self.blobs.exists(ids[0]):
                raise bad_request(f"{where}: no uploaded file has id {ids[0]!r}")


def normalized_attachments(entries: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The attachments a view keeps: id (as sent), filename and display name."""
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("filename") or not _ids(entry):
            continue
        key = "assetId" if entry.get("assetId") else "blobId"
        name = entry.get("name") or entry["filename"]
        out.append({key: str(entry[key]), "filename": entry["filename"], "name": str(name)})
    return out


def _ids(entry: dict[str, Any]) -> list[str]:
    return [str(entry[k]) for k in ("assetId", "blobId") if entry.get(k)]


def _uploaded_file(req: Request) -> tuple[str, str, bytes]:
    """(filename, content type, bytes) of the one file in a multipart/form-data body."""
    content_type = req.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise bad_request("Upload the file as multipart/form-data")
    if len(req.body) > MAX_UPLOAD_BYTES:
        raise bad_request(f"The file exceeds the stand-in's limit of {MAX_UPLOAD_BYTES} bytes")
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + req.body)
    for part in message.iter_parts() if message.is_multipart() else ():
        filename = part.get_filename()
        if filename:
            data = part.get_payload(decode=True) or b""
            return filename, part.get_content_type(), data
    raise bad_request("The multipart body holds no file (a part with a filename)")


def _file_response(blob: Blob, filename: str) -> Response:
    safe = re.sub(r'["\\\r\n]+', "_", filename)
    headers = {"Content-Disposition": f'attachment; filename="{safe}"'}
    return Response(200, blob.data, blob.content_type or "application/octet-stream", headers)
