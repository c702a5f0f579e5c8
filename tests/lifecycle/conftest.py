"""Fixtures for the lifecycle tests: the project's OCME spec (its `deaths_by_age` dataset has no
portal id), a stand-in portal per test with optional fault injection, and a registry on each
store backend. Helpers are in support.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from ctdata import settings
from ctdata.lifecycle.registry import DatasetRegistry
from ctdata.specs import AgencySpec, load_agency
from tests.lifecycle.support import PASSWORD, USER, first_faults_seed


@pytest.fixture(scope="session")
def ocme() -> AgencySpec:
    return load_agency(settings.current().agencies_dir / "ocme.yaml")


@pytest.fixture
def registry(store_url: str) -> Iterator[DatasetRegistry]:
    """The registry on each store backend (see store_url in tests/conftest.py)."""
    registry = DatasetRegistry(store_url)
    yield registry
    registry.dispose()


@pytest.fixture
def portal(tmp_path: Path) -> Callable[..., AbstractContextManager[Any]]:
    """portal(faults=(...)) starts the test's stand-in (same data each time) whose first writes
    get those faults; portal(fail_writes=True) one on which every write fails."""
    from socrata_emulator.testing import run_emulator

    def start(
        faults: tuple[str | None, ...] = (), fail_writes: bool = False
    ) -> AbstractContextManager[Any]:
        options: dict[str, Any] = {}
        if faults:
            options = {"fault_rate": 0.5, "fault_seed": first_faults_seed(*faults)}
        if fail_writes:
            options = {"fault_rate": 1.0, "fault_seed": 0}
        return run_emulator(tmp_path / "portal", users=[f"{USER}:{PASSWORD}"], **options)

    return start
