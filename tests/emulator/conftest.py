"""Fixtures for tests/emulator live in emulator_support.py (importable by name from the tests)."""

from __future__ import annotations

from emulator_support import *  # noqa: F403
