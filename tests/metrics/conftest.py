"""A stand-in portal seeded with a few datasets of varied quality plus the two output datasets,
and a metrics store, staging area and reports folder of the test module's own."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ctdata.metrics.config import MetricsConfig, load_metrics_config, portal_seed_entries
from ctdata.metrics.store import MetricsStore

PUBLISHER = ("metrics-publisher@ct.gov", "metrics-pw")
TOKEN = "metrics-token"
AGENCY = "Department of Testing"

logging.getLogger().setLevel(logging.ERROR)


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
    store: MetricsStore
    work: Path

    def client(self) -> Any:
        from ctdata.portal.client import SocrataClient
        from ctdata.portal.connection import PortalConnection

        connection = PortalConnection.from_url(
            self.url, username=PUBLISHER[0], password=PUBLISHER[1], app_token=TOKEN
        )
        return SocrataClient(connection, max_retry_seconds=5)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    from socrata_emulator.testing import run_emulator

    work = tmp_path_factory.mktemp("metrics")
    config = load_metrics_config()
    seed = {"datasets": [*DATASETS, *portal_seed_entries(PUBLISHER[0], config)]}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CTDATA_STATE_URL", f"sqlite:///{work / 'state.db'}")
        patch.setenv("CTDATA_STAGING_ROOT", f"file://{work / 'staging'}")
        patch.setenv("CTDATA_REPORTS_DIR", str(work / "reports"))
        with run_emulator(
            work / "portal", users=[":".join(PUBLISHER)], app_tokens=[TOKEN], seed=seed
        ) as emulator:
            store = MetricsStore()
            yield Portal(emulator.url, emulator.host, emulator.port, config, store, work)
            store.dispose()
