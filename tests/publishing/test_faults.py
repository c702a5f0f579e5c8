"""With 20% of writes failing (5xx, 429, dropped connections, applied-then-500) a publish converges."""

from __future__ import annotations

import logging

import pytest

from ctdata.publishing import publish_parquet
from tests.publishing.support import (
    COLUMNS,
    PASSWORD,
    USER,
    client_for,
    dataset_seed,
    make_rows,
    portal_multiset,
    source_multiset,
    write_parquet,
)

KEYED, PLAIN = "flty-0001", "flty-0002"


@pytest.fixture
def faulty(tmp_path_factory):
    """A fresh faulty portal per test: an append's expected result assumes an empty dataset."""
    from socrata_emulator.testing import run_emulator

    seed = {"datasets": [dataset_seed(KEYED), dataset_seed(PLAIN, row_identifier=None)]}
    with run_emulator(
        tmp_path_factory.mktemp("faulty"),
        users=[f"{USER}:{PASSWORD}"],
        seed=seed,
        fault_rate=0.2,
        fault_seed=7,
    ) as emu:
        yield emu


@pytest.mark.parametrize(("ds", "method"), [(KEYED, "sync"), (PLAIN, "append"), (PLAIN, "replace")])
def test_publish_converges_under_faults(faulty, state, tmp_path, ds, method, caplog) -> None:
    caplog.set_level(logging.INFO, logger="ctdata")
    client = client_for(faulty.url)
    versions = [make_rows(1500), make_rows(1400, start=100, version=1)]
    if method == "append":
        versions = [make_rows(1500), make_rows(1500) + make_rows(300, start=1500)]
    for i, rows in enumerate(versions):
        path = write_parquet(tmp_path / f"v{i}.parquet", rows)
        result = publish_parquet(
            client, ds, path, columns=COLUMNS, method=method, row_id=None, state=state,
            chunk_rows=100,
        )  # fmt: skip
        assert result.verified is True
        assert portal_multiset(client, ds) == source_multiset(rows)
    assert client.stats.retries > 0 or result.replans > 0, "faults were injected"
    text = "\n".join(r.getMessage() for r in caplog.records)  # the log says what went wrong
    if client.stats.retries:
        assert "failed (" in text and "trying again in" in text
    if result.replans:
        assert "may or may not have applied it" in text and "Reading the portal back" in text
