"""The publisher: makes a portal dataset hold the rows of a Parquet file, sending only what
changed, in chunks, with retries, exactly once.

A run: guards on the schema, a read-back of the portal when the stored fingerprints cannot be
trusted (readback.py), pass 1 typing, guarding and diffing (changes.py), pass 2 sending
(transport.py), then a row count on fresh data (readback.py). When the portal may have applied
a write whose answer was lost, or its row count disagrees, the portal is read back and the changes
made again: nothing is resent blindly.

Methods. `upsert`, `sync` and keyed `replace` key rows by the row identifier (keyed rows are
idempotent to resend). `append` and `replace` on a dataset without identifier key rows by the
hash of their whole content with a count: a row is sent only when the file holds more copies of
it than the portal does, so rerunning an append never duplicates.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq

from ctdata.errors import AmbiguousWriteError, PublishError
from ctdata.portal.client import SocrataClient
from ctdata.portal.schema import PortalColumn, columns_from_metadata, row_identifier_from_metadata
from ctdata.publishing.changes import ChangeFinder, Changes
from ctdata.publishing.guards import check_schema, key_field
from ctdata.publishing.methods import METHODS, Method
from ctdata.publishing.preview import Preview, preview_publication
from ctdata.publishing.readback import FreshReads, PortalReader
from ctdata.publishing.result import PublishResult
from ctdata.publishing.source import SourceFile, Target, open_parquet
from ctdata.publishing.state import PublishingState
from ctdata.publishing.transport import Transport

MAX_REDIFFS = 25
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """What a caller asks for: these columns, to this dataset, by this method."""

    dataset_id: str
    columns: list[PortalColumn]
    method: str
    row_id: str | None = None
    allow_new_columns: bool = False
    reconcile: bool = False


class Publisher:
    """Publishes files to portal datasets through one client and one state store."""

    def __init__(
        self,
        client: SocrataClient,
        state: PublishingState,
        *,
        chunk_rows: int = 10_000,
        chunk_bytes: int = 8_000_000,
        fresh_reads: FreshReads | None = None,
    ) -> None:
        if chunk_rows < 1 or chunk_bytes < 1024:
            raise PublishError("chunk_rows must be >= 1 and chunk_bytes >= 1024.")
        self.client, self.state = client, state
        self.chunk_rows, self.chunk_bytes = chunk_rows, chunk_bytes
        self.fresh_reads = fresh_reads or FreshReads()

    def publish(
        self,
        dataset_id: str,
        parquet_path: str | os.PathLike[str] | Any,
        *,
        columns: list[PortalColumn],
        method: Method,
        row_id: str | None = None,
        allow_new_columns: bool = False,
        reconcile: bool = False,
    ) -> PublishResult:
        """Make the portal dataset hold the file's rows; the attempt is recorded in the journal."""
        if method not in METHODS:
            raise PublishError(
                f"Unknown publish method {method!r}: use one of {', '.join(METHODS)}."
            )
        request = Request(dataset_id, columns, method, row_id, allow_new_columns, reconcile)
        started = time.monotonic()
        stats0 = self.client.stats.as_dict()
        result = PublishResult(dataset_id=dataset_id, method=method)
        entry_id = self.state.open_entry(dataset_id, method)
        try:
            with open_parquet(parquet_path) as pf:
                target, to_add = self._target(pf, request)
                _Run(self, target, result).execute(request.reconcile, entry_id, to_add)
        except BaseException as exc:
            self._finish_counts(result, stats0, started)
            self.state.close_entry(entry_id, "failed", result.as_dict(), message=str(exc))
            log.error("Publishing to dataset %s failed after %s", dataset_id, result.summary())
            raise
        self._finish_counts(result, stats0, started)
        status = "succeeded" if result.verified is not False else "unverified"
        self.state.close_entry(entry_id, status, result.as_dict())
        log.info("Published dataset %s: %s", dataset_id, result.summary())
        return result

    def preview(
        self,
        dataset_id: str,
        parquet_path: str | os.PathLike[str] | Any,
        *,
        columns: list[PortalColumn],
        method: Method,
        row_id: str | None = None,
        allow_new_columns: bool = False,
        examples: int = 3,
    ) -> Preview:
        """What `publish` would send (counts, and a few rows of each kind), sending nothing and
        leaving the state store as it was (see preview.py)."""
        request = Request(dataset_id, columns, method, row_id, allow_new_columns)
        return preview_publication(self, request, parquet_path, examples)

    def _target(self, pf: pq.ParquetFile, request: Request) -> tuple[Target, list[PortalColumn]]:
        """The guarded target (schema and identifier agree) and the columns to add."""
        dataset_id, columns = request.dataset_id, request.columns
        metadata = self.client.get_metadata(dataset_id)
        portal_columns = columns_from_metadata(metadata)
        to_add = check_schema(dataset_id, pf, columns, portal_columns, request.allow_new_columns)
        portal_row_id = row_identifier_from_metadata(metadata)
        id_field = key_field(dataset_id, request.method, request.row_id, portal_row_id, columns)
        by_name = {c.field_name: c for c in columns}
        source = SourceFile(pf, [by_name[f] for f in pf.schema_arrow.names],
                            by_name[id_field] if id_field else None,
                            min(self.chunk_rows, 50_000))  # fmt: skip
        portal_fields = frozenset(c.field_name for c in portal_columns)
        return Target(dataset_id, request.method, source, portal_fields), to_add

    def _finish_counts(self, result: PublishResult, stats0: dict[str, int], started: float) -> None:
        now = self.client.stats.as_dict()
        result.requests = now["requests"] - stats0["requests"]
        result.retries = now["retries"] - stats0["retries"]
        result.bytes_sent = now["bytes_sent"] - stats0["bytes_sent"]
        result.bytes_received = now["bytes_received"] - stats0["bytes_received"]
        result.seconds = time.monotonic() - started


class _Run:
    """One publication: its target and the parts that read it, find its changes and send them."""

    def __init__(self, publisher: Publisher, target: Target, result: PublishResult) -> None:
        client, state = publisher.client, publisher.state
        self.target, self.result, self.state, self.client = target, result, state, client
        self.reader = PortalReader(client, state, target, result, publisher.fresh_reads)
        self.finder = ChangeFinder(target, state)
        self.transport = Transport(client, state, target, result, chunk_rows=publisher.chunk_rows,
                                   chunk_bytes=publisher.chunk_bytes)  # fmt: skip

    def execute(self, reconcile: bool, entry_id: int, to_add: list[PortalColumn]) -> None:
        target = self.target
        log.info("Publishing %s rows to %s", f"{target.source.num_rows:,}", target.describe())
        reason = self.finder.read_back_reason(reconcile, entry_id)
        if reason:
            log.info("Reading the portal's rows back first: %s", reason)
            self.reader.rebuild()  # reads only: a guard failing below still means nothing sent
            if reconcile:
                self.state.mark_reconciled(target.dataset_id, target.key_kind)
        changes = self.finder.find(self.result, guards=True)  # nothing is sent before this returns
        log.info("Changes: %s", changes.describe(target.source.num_rows, target.keyed))
        for column in to_add:
            self.client.add_column(target.dataset_id, column)
            self.result.columns_added.append(column.field_name)
            log.info("Added column %s to dataset %s", column.field_name, target.dataset_id)
        self._send_until_verified(changes)
        self.state.compact(target.dataset_id)
        self.state.snapshot(target.dataset_id, min_new_segments=8)  # cheap loads next time

    def _send_until_verified(self, changes: Changes) -> None:
        """Send; when a write's outcome is unknown or the row count disagrees, read the portal
        back and find the changes again (never resend blindly)."""
        for attempt in range(MAX_REDIFFS + 1):
            try:
                self.transport.send(changes)
            except AmbiguousWriteError as exc:
                if attempt == MAX_REDIFFS:
                    raise
                log.warning(
                    "%s Reading the portal back to see what landed, then finding the changes again.",
                    exc,
                )
            else:
                if self.reader.verify() is not False or attempt == MAX_REDIFFS:
                    return
            self.result.replans += 1
            self.reader.rebuild()
            changes = self.finder.find(self.result)
            rows, keyed = self.target.source.num_rows, self.target.keyed
            log.info("Changes after reading back: %s", changes.describe(rows, keyed))


def publish_parquet(
    client: SocrataClient,
    dataset_id: str,
    parquet_path: str | os.PathLike[str] | Any,
    *,
    columns: list[PortalColumn],
    method: Method,
    row_id: str | None,
    state: PublishingState,
    chunk_rows: int = 10_000,
    chunk_bytes: int = 8_000_000,
    allow_new_columns: bool = False,
    reconcile: bool = False,
) -> PublishResult:
    """Make the portal dataset hold the Parquet file's rows, sending only what changed (the one
    entry point of the DAG's publish task and `ctdata publish-file`)."""
    publisher = Publisher(client, state, chunk_rows=chunk_rows, chunk_bytes=chunk_bytes)
    return publisher.publish(dataset_id, parquet_path, columns=columns, method=method,
                             row_id=row_id, allow_new_columns=allow_new_columns,
                             reconcile=reconcile)  # fmt: skip
