"""Accounts, seed datasets of varied quality and the Portal handle the metrics tests share
(the fixtures are in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctdata.metrics.config import MetricsConfig
from ctdata.metrics.history import UsageHistory

PUBLISHER = ("metrics-publisher@ct.gov", "metrics-pw")  # the site analytics are shared with it
STRANGER = ("stranger@ct.gov", "stranger-pw")  # an account the site analytics are not shared with
TOKEN = "metrics-token"
AGENCY = "Department of Testing"


def custom(frequency: str | None, agency: str = AGENCY) -> dict[str, dict[str, str]]:
    fields = {
        "Dataset Information": {
            "Agency": agency,
            "Row Label": "Town",
            "Geographic Unit": "Municipality",
            "Temporal Coverage": "2012 - present",
            "Source Link": "https://portal.ct.gov/testing",
        },
        "Internal": {"Contact Email": "data@ct.gov"},
    }
    if frequency:
        fields["Publishing"] = {"Update Frequency": frequency}
    return fields


def seed_dataset(ds_id: str, name: str, frequency: str | None, **overrides: Any) -> dict[str, Any]:
    entry = {
        "id": ds_id,
        "name": name,
        "owner": PUBLISHER[0],
        "public": True,
        "published": True,
        "rowIdentifier": "town",
        "description": f"{name}: counts by town, kept by the Department of Testing.",
        "category": "Government",
        "tags": ["testing"],
        "attribution": AGENCY,
        "attributionLink": "https://portal.ct.gov/testing",
        "licenseId": "PUBLIC_DOMAIN",
        "custom_fields": custom(frequency),
        "columns": [
            {"fieldName": "town", "name": "Town", "dataTypeName": "text", "description": "Town"},
            {"fieldName": "n", "name": "Count", "dataTypeName": "number", "description": "Count"},
        ],
        "rows": [{"town": "Hartford", "n": 3}, {"town": "Windham", "n": 7}],
    }
    entry.update(overrides)
    return entry


DATASETS = [
    seed_dataset("tst1-dly1", "Daily Test Counts", "Daily"),
    seed_dataset("tst1-mon1", "Monthly Test Counts", "Monthly"),
    seed_dataset("tst1-nod1", "Test Counts Without Description", "Monthly", description=""),
    seed_dataset("tst1-his1", "Historical Test Counts", "Not updated (historical only)"),
]


@dataclass
class Portal:
    url: str
    host: str
    port: int
    config: MetricsConfig
    store: UsageHistory
    work: Path

    def client(self, account: tuple[str, str] | None = PUBLISHER) -> Any:
        """A SocrataClient signed in as `account` (None: anonymous)."""
        from ctdata.portal.client import SocrataClient
        from ctdata.portal.connection import PortalConnection

        username, password = account or (None, None)
        connection = PortalConnection.from_url(
            self.url, username=username, password=password, app_token=TOKEN
        )
        return SocrataClient(connection, max_retry_seconds=5)
