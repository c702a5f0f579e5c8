"""A stand-in portal seeded with the OCME datasets as an administrator creates them, and a
state store and staging area of the test module's own."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ctdata import settings
from ctdata.lifecycle.portal_metadata import seed_entry
from ctdata.specs import AgencySpec, load_agency

logging.getLogger("sodapy").setLevel(logging.ERROR)
PUBLISHER = ("publisher@ct.gov", "publisher-pw")


@pytest.fixture(scope="module")
def ocme() -> AgencySpec:
    return load_agency(settings.current().agencies_dir / "ocme.yaml")


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory, ocme: AgencySpec) -> Iterator[Callable]:
    """A function giving a SocrataClient signed in as the publisher."""
    from ctdata.portal.client import SocrataClient
    from ctdata.portal.connection import PortalConnection
    from socrata_emulator.testing import run_emulator

    work: Path = tmp_path_factory.mktemp("metadata")
    seed = {"datasets": [seed_entry(ocme, d, PUBLISHER[0]) for d in ocme.datasets if d.portal_id]}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CTDATA_STATE_URL", f"sqlite:///{work / 'state.db'}")
        patch.setenv("CTDATA_STAGING_ROOT", f"file://{work / 'staging'}")
        with run_emulator(work / "portal", users=[":".join(PUBLISHER)], seed=seed) as emulator:

            def client() -> SocrataClient:
                connection = PortalConnection.from_url(
                    emulator.url, username=PUBLISHER[0], password=PUBLISHER[1]
                )
                return SocrataClient(connection, max_retry_seconds=5)

            yield client
