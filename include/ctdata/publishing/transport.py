"""Transport (pass 2): serialize the planned rows, cut them into chunks and send them, while a
producer thread prepares the next chunks; commit a chunk's fingerprints only once the portal
acknowledged it, so a rerun after any crash sends what is missing and nothing else."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import numpy as np
import pyarrow as pa

from ctdata.errors import PublishError
from ctdata.portal.client import SocrataClient
from ctdata.publishing.canonical import canonical_type
from ctdata.publishing.encoding import row_json, string_bytes
from ctdata.publishing.fingerprints import key_text
from ctdata.publishing.result import PublishResult, size_text
from ctdata.publishing.segments import Segment
from ctdata.publishing.source import Target
from ctdata.publishing.state import PublishingState

if TYPE_CHECKING:
    from ctdata.publishing.changes import Changes

T = TypeVar("T")
log = logging.getLogger(__name__)


def prefetch(items: Iterator[T], depth: int) -> Iterator[T]:
    """Run a generator in a thread, `depth` items ahead, starting now; errors reach the consumer."""
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put(("error", exc))

    worker = threading.Thread(target=produce, name="publish-prefetch", daemon=True)
    worker.start()
    return _consume(q, stop, worker)


def _consume(
    q: queue.Queue[tuple[str, Any]], stop: threading.Event, worker: threading.Thread
) -> Iterator[Any]:
    try:
        while True:
            kind, value = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                q.get_nowait()
        worker.join(timeout=5)


@dataclass
class Chunk:
    """One request's worth of rows, serialized, with the fingerprints to commit on success."""

    body: bytes
    rows: int
    keys: np.ndarray
    hashes: np.ndarray
    ids: pa.Array | None
    new: int

    @classmethod
    def empty(cls) -> Chunk:
        return cls(b"[]", 0, np.empty(0, np.uint64), np.empty(0, np.uint64), None, 0)


@dataclass
class _Piece:
    encoded: bytes  # rows' JSON, each followed by a comma
    sizes: np.ndarray  # bytes per row, comma included
    keys: np.ndarray
    hashes: np.ndarray
    ids: pa.Array | None
    new: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)

    def slice(self, start: int, stop: int) -> _Piece:
        bounds = np.r_[0, np.cumsum(self.sizes)]
        return _Piece(
            self.encoded[int(bounds[start]) : int(bounds[stop])],
            self.sizes[start:stop],
            self.keys[start:stop],
            self.hashes[start:stop],
            None if self.ids is None else self.ids[start:stop],
            self.new[start:stop],
        )


def _join(parts: list[_Piece]) -> Chunk:
    body = b"".join([b"[", *(p.encoded for p in parts)])[:-1] + b"]"  # drop the last comma
    ids = None
    if all(p.ids is not None for p in parts):
        ids = pa.concat_arrays([p.ids for p in parts])  # type: ignore[misc]
    return Chunk(
        body=body,
        rows=sum(len(p) for p in parts),
        keys=np.concatenate([p.keys for p in parts]),
        hashes=np.concatenate([p.hashes for p in parts]),
        ids=ids,
        new=int(sum(int(p.new.sum()) for p in parts)),
    )


class Transport:
    """Sends the changes to the portal in chunks and records each acknowledged chunk."""

    def __init__(
        self,
        client: SocrataClient,
        state: PublishingState,
        target: Target,
        result: PublishResult,
        *,
        chunk_rows: int,
        chunk_bytes: int,
    ) -> None:
        self.client, self.state, self.target, self.result = client, state, target, result
        self.chunk_rows, self.chunk_bytes = chunk_rows, chunk_bytes
        self.copies: dict[int, int] = {}  # content-keyed datasets: copies of each row on the portal

    def send(self, changes: Changes) -> None:
        """Send the planned rows chunk by chunk, then the deletions.

        A producer thread reads and serializes the next chunks (Arrow releases the GIL) while
        this thread waits on the portal, so the pipeline's own work hides behind the transport.
        """
        self.result.unchanged = self.result.rows_in_source - int(changes.send.sum())
        self.copies = {}
        if not self.target.keyed and not changes.full_replace:
            fp = self.state.load(self.target.dataset_id)
            self.copies = dict(zip(fp.keys.tolist(), fp.counts.tolist(), strict=True))
        first_put = changes.full_replace
        for chunk in prefetch(self._chunks(changes), depth=2):
            self._send_chunk(chunk, put=first_put)
            first_put = False
        if first_put:  # replacing with an empty file: the PUT still has to happen
            self._send_chunk(Chunk.empty(), put=True)
        self._send_deletes(changes.delete_keys)

    # -- chunks ---------------------------------------------------------------------------------

    def _chunks(self, changes: Changes) -> Iterator[Chunk]:
        """Cut the planned rows into chunks of at most chunk_rows rows and chunk_bytes bytes."""
        parts: list[_Piece] = []
        rows = size = 0
        for piece in self._pieces(changes):
            start = 0
            while start < len(piece):
                room = self.chunk_rows - rows
                cum = np.cumsum(piece.sizes[start : start + room])
                fit = int(np.searchsorted(cum, self.chunk_bytes - 2 - size, side="right"))
                if fit == 0 and rows == 0:
                    fit = 1  # a single row above the byte limit travels alone
                if fit:
                    parts.append(piece.slice(start, start + fit))
                    rows += fit
                    size += int(cum[fit - 1])
                    start += fit
                if fit == 0 or rows >= self.chunk_rows:
                    yield _join(parts)
                    parts, rows, size = [], 0, 0
        if parts:
            yield _join(parts)

    def _pieces(self, changes: Changes) -> Iterator[_Piece]:
        """The rows to send, batch by batch, serialized, with their fingerprints."""
        source = self.target.source
        if not changes.send.any():
            return
        batches = changes.stash if changes.stash is not None else self._reread(changes)
        for first, local, taken in batches:
            tb = source.typed(taken, first)
            encoded, sizes = string_bytes(row_json(tb.arrays, source.columns, trailer=","))
            ids = None
            if source.row_id is not None:
                ids = key_text(tb.arrays[source.row_id.field_name], source.row_id)
            keys = tb.hashes if tb.keys is None else tb.keys
            yield _Piece(encoded, sizes.astype(np.int64), keys, tb.hashes, ids,
                         changes.new[local + first])  # fmt: skip

    def _reread(self, changes: Changes) -> Iterator[tuple[int, np.ndarray, pa.RecordBatch]]:
        """Read the file again, keeping the rows the changes send."""
        for first, batch in self.target.source.raw_batches():
            mask = changes.send[first : first + batch.num_rows]
            if not mask.any():
                continue
            local = np.flatnonzero(mask)
            taken = batch if len(local) == batch.num_rows else batch.take(pa.array(local))
            yield first, local, taken

    # -- sending ----------------------------------------------------------------------------------

    def _send_chunk(self, chunk: Chunk, *, put: bool) -> None:
        """Post one chunk; record its fingerprints only once the portal acknowledged it."""
        target, result = self.target, self.result
        if put:
            answer = self.client.replace(target.dataset_id, chunk.body)
        else:
            answer = self.client.upsert(target.dataset_id, chunk.body, idempotent=target.keyed)
        self._check_answer(answer, chunk)
        n = chunk.rows
        if target.keyed:
            segment = Segment(chunk.keys, chunk.hashes, np.ones(n, np.int64), chunk.ids)
            self.state.apply(target.dataset_id, segment, chunk.new, target.key_kind)
            result.created += chunk.new
            result.updated += n - chunk.new
        else:
            if put:
                self.copies.clear()
            for h in chunk.hashes.tolist():
                self.copies[h] = self.copies.get(h, 0) + 1
            touched = np.array(list(dict.fromkeys(chunk.hashes.tolist())), np.uint64)
            copies = np.array([self.copies[h] for h in touched.tolist()], np.int64)
            segment = Segment(touched, touched, copies)
            if put:
                self.state.replace_all(target.dataset_id, [segment], target.key_kind)
            else:
                self.state.apply(target.dataset_id, segment, n, target.key_kind)
            result.created += n
        result.chunks += 1
        log.info(
            "Chunk %d %s: %s row(s), %s; the portal created %s and updated %s",
            result.chunks, "replaced every row" if put else "sent", f"{n:,}",
            size_text(len(chunk.body)), _count(answer, "Rows Created"),
            _count(answer, "Rows Updated"),
        )  # fmt: skip

    def _check_answer(self, answer: dict[str, Any], chunk: Chunk) -> None:
        errors = answer.get("Errors") or answer.get("errors") or 0
        if isinstance(errors, int) and errors > 0:
            sample = chunk.body[:300].decode(errors="replace")
            raise PublishError(
                f"The portal reported {errors} row error(s) in a chunk for dataset "
                f"{self.target.dataset_id} (answer {answer}); first rows of that chunk: {sample}"
            )

    def _send_deletes(self, keys: np.ndarray) -> None:
        rid = self.target.source.row_id
        if not len(keys) or rid is None:
            return
        numeric = canonical_type(rid.data_type) == "number"
        dataset_id, key_kind = self.target.dataset_id, self.target.key_kind
        ids = self.state.row_ids(dataset_id, keys)
        for start in range(0, len(keys), self.chunk_rows):
            part = keys[start : start + self.chunk_rows].tolist()
            payload = [
                {rid.field_name: _number(ids[k]) if numeric else ids[k], ":deleted": True}
                for k in part
                if ids.get(k) is not None
            ]
            if payload:
                answer = self.client.upsert(dataset_id, msgspec.json.encode(payload))
                self.result.chunks += 1
                log.info(
                    "Chunk %d sent: %s deletion(s) of rows that left the source; the portal "
                    "deleted %s", self.result.chunks, f"{len(payload):,}",
                    _count(answer, "Rows Deleted"),
                )  # fmt: skip
            gone = np.array(part, np.uint64)
            zeros = np.zeros(len(gone), np.uint64)
            tombstones = Segment(gone, zeros, zeros.astype(np.int64))
            self.state.apply(dataset_id, tombstones, -len(payload), key_kind)
            self.result.deleted += len(payload)


def _number(text: str | None) -> int | float | None:
    if text is None:
        return None
    value = float(text)
    return int(value) if value.is_integer() else value


def _count(answer: dict[str, Any], key: str) -> str:
    value = answer.get(key)
    return f"{value:,}" if isinstance(value, int) else "?"
