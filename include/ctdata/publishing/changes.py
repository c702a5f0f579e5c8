"""Finding the changes (pass 1): type and fingerprint every source row, run the row guards, and compare
with the state store's fingerprints to decide which rows to create, change and delete.

Memory stays at two flags a source row plus 8 bytes a new key (and, without a row identifier,
8 bytes a row for content hashes), whatever the number of columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ctdata.publishing.guards import RowChecks
from ctdata.publishing.result import PublishResult
from ctdata.publishing.segments import Fingerprints
from ctdata.publishing.source import Target
from ctdata.publishing.state import PublishingState
from ctdata.publishing.transport import prefetch

STASH_ROWS = 50_000  # at most this many changed rows are kept in memory between the passes


@dataclass
class Changes:
    """Which source rows to send and which portal rows to delete."""

    send: np.ndarray  # bool per source row
    new: np.ndarray  # bool per source row (keyed: not on the portal yet)
    delete_keys: np.ndarray  # uint64
    full_replace: bool = False
    # Rows to send kept from pass 1 when few (a refresh), so pass 2 need not reread the file.
    stash: list[tuple[int, np.ndarray, pa.RecordBatch]] | None = None

    def describe(self, rows: int, keyed: bool) -> str:
        sending, new = int(self.send.sum()), int(self.new.sum())
        if not keyed:
            what = "replace every row" if self.full_replace else f"add {sending:,} row(s)"
            return f"{rows:,} row(s) in the source: {what} ({rows - sending:,} already there)"
        return (
            f"{rows:,} row(s) in the source: {rows - sending:,} unchanged, {new:,} new, "
            f"{sending - new:,} changed; {len(self.delete_keys):,} to delete"
        )


class ChangeFinder:
    """Compares the source with what the state store says the portal holds."""

    def __init__(self, target: Target, state: PublishingState) -> None:
        self.target = target
        self.state = state

    def read_back_reason(self, reconcile: bool, entry_id: int) -> str | None:
        """Why the portal must be read back before diffing (None: the fingerprints hold)."""
        dataset_id = self.target.dataset_id
        if reconcile:
            return "a comparison with the portal was asked for (reconcile)"
        known = self.state.key_kind(dataset_id)
        if known is None:
            return "no fingerprints are stored for it (first publish, or a new state store)"
        if known != self.target.key_kind:
            return "its rows were keyed differently at the last publish"
        previous = self.state.previous_entry(dataset_id, entry_id)
        # An interrupted append may have landed rows we never recorded. (Drift on keyed
        # datasets is caught after sending, by the row count check.)
        if not self.target.keyed and previous is not None and previous["status"] != "succeeded":
            return "the previous run did not finish, and appended rows may have landed"
        return None

    def find(self, result: PublishResult, *, guards: bool = False) -> Changes:
        """Pass 1 over the file; with `guards`, raise before anything is sent if a row is bad."""
        source = self.target.source
        checks = RowChecks(self.target.dataset_id, source)
        compare = self.state.count(self.target.dataset_id) > 0  # else every row is new
        typed = prefetch(source.typed_batches(checks.problems, row_hashes=compare), depth=2)
        fp = self.state.load(self.target.dataset_id)  # while the first batches are typed
        n_state, n = len(fp), source.num_rows
        send = np.zeros(n, bool)
        new = np.zeros(n, bool)
        seen = np.zeros(max(n_state, 1), bool)
        published = fp.rows if n_state else np.zeros(1, np.uint64)
        content: list[np.ndarray] = []
        stash: list[tuple[int, np.ndarray, pa.RecordBatch]] | None = []
        stash_rows = marked = 0
        for tb in typed:
            if tb.keys is None or source.row_id is None:
                assert tb.hashes is not None  # rows keyed by content are always hashed
                content.append(tb.hashes)
                continue
            checks.note_batch(tb.first, tb.arrays[source.row_id.field_name])
            idx, found = fp.find(tb.keys)
            hit = idx[found]
            again = seen[hit]
            if again.any() and len(checks.repeats) < 4:
                checks.repeats.extend((np.flatnonzero(found)[again] + tb.first).tolist()[:4])
            seen[hit] = True
            marked += len(hit) - int(again.sum())  # falls behind seen.sum() if hit repeats a key
            wanted = ~found  # new, or changed:
            if tb.hashes is not None:
                wanted |= published[idx] != tb.hashes
            rows = slice(tb.first, tb.first + len(tb.keys))
            send[rows] = wanted
            new[rows] = ~found
            checks.new_keys.append(tb.keys[~found])
            if stash is not None:
                local = np.flatnonzero(wanted)
                stash_rows += len(local)
                if stash_rows > STASH_ROWS:
                    stash = None
                elif len(local):
                    stash.append((tb.first, local, tb.raw.take(pa.array(local))))
        result.rows_in_source = n
        if n_state and marked != int(seen[:n_state].sum()):
            checks.note_repeats_on_portal(fp)
        if guards:
            checks.check()
        if source.row_id is None:
            del fp
            hashes = np.concatenate(content) if content else np.empty(0, np.uint64)
            return self._content_changes(hashes)
        deletable = self.target.method in ("sync", "replace") and n_state > 0
        deletes = fp.keys[~seen[:n_state]] if deletable else np.empty(0, np.uint64)
        return Changes(send=send, new=new, delete_keys=deletes, stash=stash)

    def _content_changes(self, hashes: np.ndarray) -> Changes:
        """Rows keyed by content: send each copy the portal lacks (replace: restart if it has
        rows the file lacks)."""
        fp = self.state.load(self.target.dataset_id)
        rank = occurrence_rank(hashes)
        idx, found = fp.find(hashes)
        have = np.where(found, fp.counts[idx] if len(fp) else 0, 0)
        full = False
        if self.target.method == "replace" and len(fp):
            uniq, counts = np.unique(hashes, return_counts=True)
            src_idx, in_src = Fingerprints(uniq, uniq, counts).find(fp.keys)
            src_count = np.where(in_src, counts[src_idx] if len(uniq) else 0, 0)
            full = bool(np.any(fp.counts > src_count))
        send = np.ones(len(hashes), bool) if full else rank >= have
        return Changes(send=send, new=send, delete_keys=np.empty(0, np.uint64), full_replace=full)


def occurrence_rank(hashes: np.ndarray) -> np.ndarray:
    """For each row, how many earlier rows have the same content (0 for the first copy)."""
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]] if len(ordered) else np.empty(0, bool)
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(ordered)), 0))
    rank = np.empty(len(hashes), np.int64)
    rank[order] = np.arange(len(ordered)) - group_start
    return rank
