"""Extract a dataset's rows from the agency's source system (SQL, CSV file or HTTP API)."""

from __future__ import annotations

from ctdata.sources.extract import extract

__all__ = ["extract"]
