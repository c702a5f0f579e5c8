"""A stand-in portal seeded with a few datasets of varied quality plus the two output datasets,
and a usage history, staging area and reports folder of the test module's own."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from ctdata.metrics.config import load_metrics_config, portal_seed_entries
from ctdata.metrics.history import UsageHistory
from tests.metrics.support import DATASETS, PUBLISHER, STRANGER, TOKEN, Portal

logging.getLogger("sodapy").setLevel(logging.ERROR)


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
            work / "portal",
            users=[":".join(PUBLISHER), ":".join(STRANGER)],
            app_tokens=[TOKEN],
            seed=seed,
            analytics_viewers=[PUBLISHER[0]],
        ) as emulator:
            store = UsageHistory()
            yield Portal(emulator.url, emulator.host, emulator.port, config, store, work)
            store.dispose()
