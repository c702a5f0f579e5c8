"""The install `make` builds: the pinned packages with their bytecode compiled."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest


@pytest.mark.parametrize("name", ["airflow", "pandas", "great_expectations", "sqlalchemy"])
def test_installed_packages_carry_their_bytecode(name: str) -> None:
    """Where PYTHONDONTWRITEBYTECODE is set (as on CI), a package installed without its
    bytecode is compiled from source again by every process: each Airflow task, each CLI call."""
    module = importlib.import_module(name)
    compiled = Path(importlib.util.cache_from_source(module.__file__))
    assert compiled.exists(), f"{name} has no bytecode: rm .venv/.installed && make check"
