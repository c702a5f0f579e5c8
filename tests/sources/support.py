"""Specs and connections for source tests against the agency API stand-in."""

from __future__ import annotations

from typing import Any

from ctdata.connections import SourceConnection
from ctdata.specs.models import DatasetSpec

METADATA = {
    "title": "Connecticut Towns",
    "description": "The towns of Connecticut, for testing extraction.",
    "category": "Government",
    "tags": ["towns"],
    "row_label": "Town",
    "source_link": "https://portal.ct.gov/opm",
    "geographic_unit": "Municipality",
    "temporal_coverage": "current",
    "attribution": "OPM",
    "contact_email": "opm@ct.gov",
    "update_frequency": "Annually",
}
FAST_RETRY = {"attempts": 4, "backoff_seconds": 0.01, "max_wait_seconds": 2}


def dataset(source: dict[str, Any], columns: list[dict[str, str]] | None = None) -> DatasetSpec:
    columns = columns or [{"name": "Town", "field": "town", "type": "text",
                           "description": "Name of the town"}]  # fmt: skip
    return DatasetSpec.model_validate(
        {"slug": "towns", "portal_id": "abcd-1234", "metadata": METADATA, "source": source,
         "columns": columns, "row_identifier": columns[0]["field"]}
    )  # fmt: skip


def lookup(url: str, **fields: Any):
    """A ConnectionLookup giving an `http` connection to the stand-in."""
    host, port = url.removeprefix("http://").split(":")

    def connections(conn_id: str) -> SourceConnection:
        return SourceConnection(conn_id, "http", host, "http", port=int(port), **fields)

    return connections
