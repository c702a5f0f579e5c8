"""One stand-in subprocess per test module, with an owner, a second user and an admin, and a
sodapy client for each (and one without credentials)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from socrata_emulator.testing import EmulatorHandle, run_emulator, sodapy_client
from tests.emulator.support import ADMIN, OTHER, OWNER, TOKEN

logging.getLogger().setLevel(logging.ERROR)  # sodapy warns on every token-less client


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    data_dir: Path = tmp_path_factory.mktemp("emulator")
    with run_emulator(
        data_dir,
        users=[":".join(OWNER), ":".join(OTHER)],
        admins=[":".join(ADMIN)],
        app_tokens=[TOKEN],
    ) as handle:
        yield handle


@pytest.fixture(scope="module")
def owner(emu: EmulatorHandle) -> Any:
    return sodapy_client(emu, *OWNER, app_token=TOKEN)


@pytest.fixture(scope="module")
def other(emu: EmulatorHandle) -> Any:
    return sodapy_client(emu, *OTHER, app_token=TOKEN)


@pytest.fixture(scope="module")
def admin(emu: EmulatorHandle) -> Any:
    return sodapy_client(emu, *ADMIN, app_token=TOKEN)


@pytest.fixture(scope="module")
def anon(emu: EmulatorHandle) -> Any:
    return sodapy_client(emu)
