"""Fixtures for tests/publishing live in publishing_support.py (importable by name from the tests)."""

from __future__ import annotations

from publishing_support import *  # noqa: F403
