"""Reads that lag writes (X-SODA2-Data-Out-Of-Date), with injected faults: the publisher waits
for fresh data before it counts or reads back, so it never re-sends, re-plans needlessly or
duplicates appended rows (issue 8 §3)."""

from __future__ import annotations

import pytest

from ctdata.errors import PortalUnavailableError
from ctdata.publishing import Publisher, publish_parquet
from ctdata.publishing.readback import FreshReads, StaleReadsTimeout
from ctdata.publishing.state import PublishingState
from tests.publishing.support import (
    COLUMNS,
    PASSWORD,
    USER,
    client_for,
    dataset_seed,
    fresh_multiset,
    make_rows,
    source_multiset,
    write_parquet,
)

KEYED, PLAIN = "stal-0001", "stal-0002"


def _portal(tmp_path_factory, **options):
    from socrata_emulator.testing import run_emulator

    seed = {"datasets": [dataset_seed(KEYED), dataset_seed(PLAIN, row_identifier=None)]}
    return run_emulator(tmp_path_factory.mktemp("stale"), users=[f"{USER}:{PASSWORD}"],
                        seed=seed, **options)  # fmt: skip


@pytest.fixture
def lagging_faulty(tmp_path_factory):
    """Reads lag writes by a second and a fifth of the writes fail (fresh portal per test)."""
    with _portal(tmp_path_factory, stale_reads=1.0, fault_rate=0.2, fault_seed=11) as emu:
        yield emu


@pytest.mark.parametrize(("ds", "method"), [(KEYED, "sync"), (PLAIN, "append"), (PLAIN, "replace")])
def test_publish_converges_exactly_under_stale_reads_and_faults(
    lagging_faulty, state, tmp_path, ds, method
) -> None:
    client = client_for(lagging_faulty.url)
    versions = [make_rows(1200), make_rows(1100, start=100, version=1)]
    if method == "append":
        versions = [make_rows(1200), make_rows(1200) + make_rows(300, start=1200)]
    stale_reads = replans = 0
    for i, rows in enumerate(versions):
        path = write_parquet(tmp_path / f"v{i}.parquet", rows)
        result = publish_parquet(client, ds, path, columns=COLUMNS, method=method, row_id=None,
                                 state=state, chunk_rows=100)  # fmt: skip
        assert result.verified is True and result.portal_rows == len(rows)
        on_portal = fresh_multiset(client, ds)
        assert on_portal == source_multiset(rows)
        assert sum(on_portal.values()) == len(rows), "no row may be duplicated"
        stale_reads, replans = stale_reads + result.stale_reads, replans + result.replans
        again = publish_parquet(client, ds, path, columns=COLUMNS, method=method, row_id=None,
                                state=state, chunk_rows=100)  # fmt: skip
        assert (again.created, again.updated, again.deleted, again.chunks) == (0, 0, 0, 0)
        assert again.replans == 0 and again.verified is True
    assert stale_reads > 0, "the stand-in answered out-of-date reads"
    assert client.stats.retries > 0 or replans > 0, "faults were injected"


@pytest.fixture
def slow_replica(tmp_path_factory):
    with _portal(tmp_path_factory, stale_reads=30.0) as emu:
        yield emu


def test_waits_are_bounded(slow_replica, tmp_path) -> None:
    """A replica that stays behind: verification gives up saying it could not tell, and a
    read-back (needed to plan) fails as retryable without sending anything."""
    client = client_for(slow_replica.url)
    rows = make_rows(50)
    path = write_parquet(tmp_path / "a.parquet", rows)
    short_wait = FreshReads(max_wait_seconds=1.0, first_wait_seconds=0.2)
    state = PublishingState(f"sqlite:///{tmp_path / 'a.db'}")
    publisher = Publisher(client, state, fresh_reads=short_wait)
    first = publisher.publish(KEYED, path, columns=COLUMNS, method="sync")
    assert first.created == 50 and first.verified is None and first.stale_reads > 0
    assert first.replans == 0, "an out-of-date count is not a reason to re-plan"

    lost = Publisher(
        client, PublishingState(f"sqlite:///{tmp_path / 'b.db'}"), fresh_reads=short_wait
    )
    sent_before = client.stats.bytes_sent
    with pytest.raises(StaleReadsTimeout, match="stayed out of date") as err:
        lost.publish(KEYED, path, columns=COLUMNS, method="sync")
    assert isinstance(err.value, PortalUnavailableError) and err.value.retryable
    assert client.stats.bytes_sent == sent_before, "nothing is sent without a fresh read-back"
