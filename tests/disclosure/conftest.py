"""Fixtures for tests/disclosure live in disclosure_support.py (importable by name from the tests)."""

from __future__ import annotations

from disclosure_support import *  # noqa: F403
