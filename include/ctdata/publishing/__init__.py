"""Change-only, chunked, retried and exactly-once publication of rows to a Socrata dataset.

Names load on first use (PEP 562) so the `ctdata` CLI and the specs stay quick to import.
"""

from __future__ import annotations

from ctdata.lazy import lazy_exports

_EXPORTS = {
    "METHODS": "ctdata.publishing.methods",
    "Method": "ctdata.publishing.methods",
    "PublishResult": "ctdata.publishing.result",
    "Preview": "ctdata.publishing.preview",
    "Publisher": "ctdata.publishing.publisher",
    "publish_parquet": "ctdata.publishing.publisher",
    "PublishingState": "ctdata.publishing.state",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
