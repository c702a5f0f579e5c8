"""A stand-in portal as an inventory finds it: the agencies' datasets (some public, one never
published), one dataset OCME published by hand, and the empty registers; a usage history with
some use; the module's own state store and staging area."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ctdata.lifecycle.portal_metadata import seed_entry
from ctdata.metrics.analytics import Counters
from ctdata.metrics.collect import Collection, Observation
from ctdata.metrics.history import UsageHistory
from ctdata.metrics.quality import Freshness
from ctdata.specs import AgencySpec, load_all
from ctdata.specs.registers import RegistersConfig, load_registers_config
from tests.inventory.support import BY_HAND, DAY, PUBLIC, PUBLISHER

logging.getLogger("sodapy").setLevel(logging.ERROR)


@dataclass
class Setup:
    client: Callable
    url: str
    agencies: list[AgencySpec]
    registers: RegistersConfig
    store: UsageHistory
    work: Path


def _seed(agencies: list[AgencySpec], registers: RegistersConfig) -> dict:
    entries = [seed_entry(a, d, PUBLISHER[0]) for a in agencies for d in a.datasets if d.portal_id]
    for entry in entries:
        if entry["id"] in PUBLIC:
            entry.update(public=True, published=True)
    generated = registers.agency()
    entries += [seed_entry(generated, d, PUBLISHER[0]) for d in generated.datasets]
    return {"datasets": [*entries, BY_HAND]}


def _use(store: UsageHistory) -> None:
    """Two nightly snapshots: 20 page views of deaths_by_town between them."""
    for day, views in ((DAY - dt.timedelta(days=10), 5), (DAY, 25)):
        observation = Observation(
            "ocme-twn7", "Deaths by town", "Office of the Chief Medical Examiner", True,
            dt.date(2020, 1, 1), day, "Annually", (), Freshness("on time"),
            Counters(views, 2, 4),
        )  # fmt: skip
        store.save(Collection(day, [observation]))


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    from ctdata.portal.client import SocrataClient
    from ctdata.portal.connection import PortalConnection
    from socrata_emulator.testing import run_emulator

    work: Path = tmp_path_factory.mktemp("inventory")
    agencies = load_all().agencies
    registers = load_registers_config()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CTDATA_STATE_URL", f"sqlite:///{work / 'state.db'}")
        patch.setenv("CTDATA_STAGING_ROOT", f"file://{work / 'staging'}")
        seed = _seed(agencies, registers)
        with run_emulator(work / "portal", users=[":".join(PUBLISHER)], seed=seed) as emulator:

            def client() -> SocrataClient:
                connection = PortalConnection.from_url(
                    emulator.url, username=PUBLISHER[0], password=PUBLISHER[1]
                )
                return SocrataClient(connection, max_retry_seconds=5)

            patch.setenv("CTDATA_PORTAL_URL", emulator.url)
            store = UsageHistory()
            _use(store)
            yield Setup(client, emulator.url, agencies, registers, store, work)
            store.dispose()
