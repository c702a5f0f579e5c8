"""Fixtures of the publishing tests: the state store on each backend and a stand-in portal.

Helpers (datasets, files, read-back) are plain functions in support.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ctdata.publishing.state import PublishingState
from tests.publishing.support import PASSWORD, USER


@pytest.fixture
def state(store_url: str) -> Iterator[PublishingState]:
    """The state store on each backend (see store_url in tests/conftest.py)."""
    store = PublishingState(store_url)
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One fault-free stand-in per test module; tests add their own datasets."""
    from socrata_emulator.testing import run_emulator

    with run_emulator(tmp_path_factory.mktemp("emu"), users=[f"{USER}:{PASSWORD}"]) as emu:
        yield emu
