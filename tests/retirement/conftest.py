"""A stand-in portal holding OPM's published towns dataset and the empty registers, with a
state store and staging area of the test module's own."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ctdata import settings
from ctdata.lifecycle.portal_metadata import seed_entry
from ctdata.specs import AgencySpec, load_agency
from ctdata.specs.registers import RegistersConfig, load_registers_config

logging.getLogger("sodapy").setLevel(logging.ERROR)
PUBLISHER = ("publisher@ct.gov", "publisher-pw")


@pytest.fixture(scope="module")
def opm() -> AgencySpec:
    return load_agency(settings.current().agencies_dir / "opm.yaml")


@pytest.fixture(scope="module")
def registers() -> RegistersConfig:
    return load_registers_config()


@pytest.fixture(scope="module")
def portal(
    tmp_path_factory: pytest.TempPathFactory, opm: AgencySpec, registers: RegistersConfig
) -> Iterator[Callable]:
    """A function giving a SocrataClient signed in as the publisher (None: anonymous)."""
    from ctdata.portal.client import SocrataClient
    from ctdata.portal.connection import PortalConnection
    from socrata_emulator.testing import run_emulator

    work: Path = tmp_path_factory.mktemp("retirement")
    seed = {
        "datasets": [
            *(seed_entry(opm, d, PUBLISHER[0]) for d in opm.datasets),
            *(seed_entry(registers.agency(), d, PUBLISHER[0]) for d in registers.agency().datasets),
        ]
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CTDATA_STATE_URL", f"sqlite:///{work / 'state.db'}")
        patch.setenv("CTDATA_STAGING_ROOT", f"file://{work / 'staging'}")
        with run_emulator(work / "portal", users=[":".join(PUBLISHER)], seed=seed) as emulator:

            def client(account: tuple[str, str] | None = PUBLISHER) -> SocrataClient:
                username, password = account or (None, None)
                connection = PortalConnection.from_url(
                    emulator.url, username=username, password=password
                )
                return SocrataClient(connection, max_retry_seconds=5)

            yield client
