"""Change-only, chunked, retried and exactly-once publication of rows to a Socrata dataset."""

from __future__ import annotations

from ctdata.publishing.engine import METHODS, Method, PublishResult, publish_parquet
from ctdata.publishing.state import StateStore

__all__ = ["METHODS", "Method", "PublishResult", "StateStore", "publish_parquet"]
