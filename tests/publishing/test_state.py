"""PublishingState: the segment log (latest write wins, tombstones, compaction) and the journal."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from ctdata.publishing.state import PublishingState, Segment


def _seg(keys, hashes, counts=None, ids=None) -> Segment:
    keys = np.array(keys, np.uint64)
    counts = np.ones(len(keys), np.int64) if counts is None else np.array(counts, np.int64)
    return Segment(keys, np.array(hashes, np.uint64), counts, ids)


def test_latest_write_wins_and_tombstones_remove(state: PublishingState) -> None:
    big = 2**64 - 5  # hashes use the whole unsigned 64-bit range
    state.apply("abcd-1234", _seg([3, 1, big], [30, 10, 7], ids=["c", "a", "z"]), 3, "row_id:x")
    state.apply("abcd-1234", _seg([1, 2], [11, 20], ids=["a", "b"]), 1, "row_id:x")
    state.apply("abcd-1234", _seg([3], [0], counts=[0]), -1, "row_id:x")
    fp = state.load("abcd-1234")
    assert fp.keys.tolist() == [1, 2, big] and fp.rows.tolist() == [11, 20, 7]
    assert state.count("abcd-1234") == 3 and state.key_kind("abcd-1234") == "row_id:x"
    assert state.row_ids("abcd-1234", [1, 3, big]) == {1: "a", big: "z"}
    assert len(state.load("zzzz-0000")) == 0 and state.count("zzzz-0000") == 0


def test_compaction_keeps_the_live_view(state: PublishingState) -> None:
    rng = np.random.default_rng(1)
    for i in range(70):
        keys = rng.integers(0, 500, 50).astype(np.uint64)
        keys = np.unique(keys)
        state.apply("abcd-1234", _seg(keys, keys + i, ids=[str(k) for k in keys.tolist()]), 0, "k")
    before = state.load("abcd-1234")
    ids_before = state.row_ids("abcd-1234", before.keys)
    assert state.compact("abcd-1234", min_segments=64)
    after = state.load("abcd-1234")
    assert np.array_equal(before.keys, after.keys) and np.array_equal(before.rows, after.rows)
    assert state.row_ids("abcd-1234", after.keys) == ids_before
    assert not state.compact("abcd-1234", min_segments=64)


def test_replace_all_resets_count_and_content_counts(state: PublishingState) -> None:
    state.apply("abcd-1234", _seg([1, 2], [1, 2]), 2, "content")
    state.replace_all("abcd-1234", [_seg([5, 6], [5, 6], counts=[2, 3])], "content")
    assert state.count("abcd-1234") == 5
    assert state.load("abcd-1234").counts.tolist() == [2, 3]


def test_journal_and_reconcile_schedule(state: PublishingState) -> None:
    run = state.open_entry("abcd-1234", "sync")
    assert state.journal_entries()[0]["status"] == "running"
    state.close_entry(run, "succeeded", {"created": 3})
    later = state.open_entry("abcd-1234", "sync")
    assert state.previous_entry("abcd-1234", later)["status"] == "succeeded"
    last = state.journal_entries("abcd-1234")
    assert [r["id"] for r in last] == [later, run] and last[1]["counts"] == {"created": 3}
    assert last[1]["finished"] is not None and last[1]["method"] == "sync"
    assert state.reconcile_due("abcd-1234")
    state.mark_reconciled("abcd-1234", "row_id:x")
    assert not state.reconcile_due("abcd-1234")
    assert state.reconcile_due("abcd-1234", every=timedelta(0))


def test_snapshot_plus_later_segments_equals_full_merge(state: PublishingState) -> None:
    rng = np.random.default_rng(3)
    for round_ in range(3):
        for _ in range(5):
            keys = np.unique(rng.integers(0, 300, 40).astype(np.uint64))
            counts = rng.integers(0, 3, len(keys))  # some deletions
            state.apply("abcd-1234", _seg(keys, keys * 7 + round_, counts), 0, "content")
        full = state._merged("abcd-1234")[0]
        fast = state.load("abcd-1234")
        assert np.array_equal(full.keys, fast.keys) and np.array_equal(full.rows, fast.rows)
        assert np.array_equal(full.counts, fast.counts)
        state.snapshot("abcd-1234")
    state.replace_all("abcd-1234", [_seg([1], [1])], "content")
    assert state.load("abcd-1234").keys.tolist() == [1]
