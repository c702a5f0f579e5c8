"""Change-only, chunked, retried and exactly-once publication of rows to a Socrata dataset.

Names load on first use (PEP 562) so the `ctdata` CLI and the specs stay quick to import.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "METHODS": "ctdata.publishing.methods",
    "Method": "ctdata.publishing.methods",
    "PublishResult": "ctdata.publishing.engine",
    "publish_parquet": "ctdata.publishing.engine",
    "StateStore": "ctdata.publishing.state",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ctdata.publishing' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
