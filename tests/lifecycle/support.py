"""Helpers of the lifecycle tests (importable by name): the spec dataset without a portal id,
portal clients and fault seeds for the stand-in."""

from __future__ import annotations

from typing import Any

from ctdata.lifecycle.onboarding import Onboarded, ensure_dataset
from ctdata.lifecycle.portal_metadata import view_metadata
from ctdata.portal.client import SocrataClient
from ctdata.portal.connection import PortalConnection

USER, PASSWORD = "opendata-publisher@ct.gov", "publisher-pw-123"
NEW = "deaths_by_age"  # in include/agencies/ocme.yaml without a portal_id


def first_faults_seed(*faults: str | None, rate: float = 0.5) -> int:
    """A fault seed whose first write requests get exactly `faults` (None: no fault)."""
    from socrata_emulator.faults import fault_sequence

    for seed in range(10_000):
        if fault_sequence(rate, seed, len(faults)) == list(faults):
            return seed
    raise AssertionError(f"no seed gives {faults}")


def client_for(emulator: Any) -> SocrataClient:
    connection = PortalConnection.from_url(emulator.url, username=USER, password=PASSWORD)
    return SocrataClient(connection, backoff_base_seconds=0.01, max_retry_seconds=5)


def datasets_on(client: SocrataClient) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in client.catalog()]


def onboard(agency: Any, dataset: Any, client: SocrataClient, registry: Any) -> Onboarded:
    """`ensure_dataset` as the pipeline's onboard step calls it."""
    return ensure_dataset(agency.code, dataset, client, view_metadata(agency, dataset), registry)
