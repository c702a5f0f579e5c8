"""Read-back and verification: what the portal really holds, read only from fresh data.

After a write, Socrata may answer reads from a copy that is behind (`X-SODA2-Data-Out-Of-Date:
true`). A row count or a read-back taken from that copy would make the publisher think rows
are missing and send them again (duplicating appended rows), so every read here waits, with
backoff and within a bound, until the portal says its answer is up to date.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ctdata.errors import PortalError, PortalUnavailableError
from ctdata.portal.client import RowsPage, SocrataClient, row_count
from ctdata.publishing.canonical import portal_rows_to_arrays
from ctdata.publishing.fingerprints import key_text
from ctdata.publishing.result import PublishResult
from ctdata.publishing.segments import Segment
from ctdata.publishing.source import Target
from ctdata.publishing.state import PublishingState

READ_PAGE = 50_000
MAX_RESTARTS = 5  # read-backs started again because the dataset changed meanwhile
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FreshReads:
    """How long to wait for the portal's reads to catch up with its writes."""

    max_wait_seconds: float = 300.0
    first_wait_seconds: float = 0.5
    cap_seconds: float = 15.0


class _Restart(Exception):
    """A page after the first came back out of date: the read must start again."""


class StaleReadsTimeout(PortalUnavailableError):
    """The portal's reads stayed behind its writes longer than the wait allows."""


class PortalReader:
    """Reads the portal's rows and row count for one target, from fresh data only."""

    def __init__(
        self,
        client: SocrataClient,
        state: PublishingState,
        target: Target,
        result: PublishResult,
        fresh: FreshReads,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.state, self.target, self.result = client, state, target, result
        self.fresh = fresh
        self._sleep = sleep

    # -- fresh reads --------------------------------------------------------------------------

    def _fresh_page(self, what: str, **query: Any) -> RowsPage:
        """One page from up-to-date data: wait with backoff while the portal says it is not."""
        delay = self.fresh.first_wait_seconds
        waited = 0.0
        while True:
            page = self.client.read_page(self.target.dataset_id, **query)
            if not page.out_of_date:
                return page
            self.result.stale_reads += 1
            if waited + delay > self.fresh.max_wait_seconds:
                raise StaleReadsTimeout(
                    f"The portal's answers for dataset {self.target.dataset_id} stayed out of "
                    f"date (X-SODA2-Data-Out-Of-Date) for {waited:.0f} s while reading {what}; "
                    "what was acknowledged is recorded: rerun later."
                )
            log.info(
                "The portal answered %s from a copy not yet up to date with the latest writes; "
                "waiting %.1f s for fresh data", what, delay,
            )  # fmt: skip
            self._sleep(delay)
            waited += delay
            self.result.seconds_waiting_fresh += delay
            delay = min(self.fresh.cap_seconds, delay * 2)

    # -- verification -------------------------------------------------------------------------

    def verify(self) -> bool | None:
        """Does the portal hold as many rows as the fingerprints say? (None: cannot tell)."""
        expected = self.state.count(self.target.dataset_id)
        try:
            page = self._fresh_page("the row count", select="count(*)", order=None)
            portal = row_count(page)
        except (PortalError, ValueError) as exc:  # stale too long, or no count(*): cannot tell
            log.warning("Could not verify the row count: %s", exc)
            portal = None
        self.result.portal_rows = portal
        self.result.verified = None if portal is None else portal == expected
        if self.result.verified:
            log.info("Verified: the portal holds %s row(s), as expected", f"{portal:,}")
        elif self.result.verified is False:
            log.warning(
                "The portal holds %s row(s) but %s were expected: the dataset was changed on "
                "the portal; reading it back to repair", f"{portal:,}", f"{expected:,}",
            )  # fmt: skip
        return self.result.verified

    # -- read-back ----------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Rebuild the dataset's fingerprints from a paged read of the portal's rows."""
        for attempt in range(MAX_RESTARTS + 1):
            try:
                read = self._rebuild_once()
            except _Restart:
                if attempt == MAX_RESTARTS:
                    raise StaleReadsTimeout(
                        f"Dataset {self.target.dataset_id} kept changing on the portal while it "
                        f"was read back ({attempt + 1} attempts); rerun when it is quiet."
                    ) from None
                continue  # the first page of the next attempt waits for fresh data
            self.result.rows_read_back += read
            log.info("Read %s row(s) back from the portal", f"{read:,}")
            return

    def _rebuild_once(self) -> int:
        source = self.target.source
        readable = [c for c in source.columns if c.field_name in self.target.portal_fields]
        select = ",".join(c.field_name for c in readable)
        read = 0
        content: list[np.ndarray] = []

        def pages() -> Iterator[list[dict[str, Any]]]:
            offset = 0
            while True:
                query = {"select": select, "order": ":id", "limit": READ_PAGE, "offset": offset}
                if offset == 0:
                    page = self._fresh_page("the dataset's rows", **query)
                else:
                    page = self.client.read_page(self.target.dataset_id, **query)
                    if page.out_of_date:  # written to while we read: start again
                        self.result.stale_reads += 1
                        raise _Restart
                if page.rows:
                    yield page.rows
                if len(page.rows) < READ_PAGE:
                    return
                offset += READ_PAGE

        def segments() -> Iterator[Segment]:
            nonlocal read
            for rows in pages():
                read += len(rows)
                arrays = portal_rows_to_arrays(rows, source.columns)
                hashes, keys = source.fingerprint(arrays)
                if keys is None or source.row_id is None:
                    content.append(hashes)
                    continue
                ids = key_text(arrays[source.row_id.field_name], source.row_id)
                yield Segment(keys, hashes, np.ones(len(keys), np.int64), ids)
            if source.row_id is None:
                hashes = np.concatenate(content) if content else np.empty(0, np.uint64)
                uniq, counts = np.unique(hashes, return_counts=True)
                yield Segment(uniq, uniq, counts.astype(np.int64))

        self.state.replace_all(self.target.dataset_id, segments(), self.target.key_kind)
        return read
