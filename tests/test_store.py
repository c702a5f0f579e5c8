"""The state store: every store object of a process shares one engine per database."""

from __future__ import annotations

from ctdata import store
from ctdata.lifecycle.registry import DatasetRegistry
from ctdata.metrics.store import MetricsStore
from ctdata.monitoring.ledger import Ledger
from ctdata.publishing.state import StateStore


def test_every_store_of_a_process_shares_one_engine(store_url: str) -> None:
    made = [cls(store_url) for cls in (DatasetRegistry, Ledger, StateStore, MetricsStore)]
    assert len({id(s.engine) for s in made}) == 1
    assert store.engine(store_url) is made[0].engine
    made[0].dispose()  # releases the process's engine: the next store opens a new one
    again = DatasetRegistry(store_url)
    assert again.engine is not made[1].engine
    assert again.entries() == []  # and finds its tables
