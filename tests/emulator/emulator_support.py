"""One stand-in subprocess per test module, with an owner, a second user and an admin."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from socrata_emulator.testing import EmulatorHandle, run_emulator, sodapy_client

OWNER = ("owner@ct.gov", "owner-pw")
OTHER = ("other@ct.gov", "other-pw")
ADMIN = ("admin@ct.gov", "admin-pw")
TOKEN = "test-app-token"

COLUMNS = [
    {"name": "Record ID", "fieldName": "record_id", "dataTypeName": "text"},
    {"name": "Town", "fieldName": "town", "dataTypeName": "text", "description": "CT town"},
    {"name": "Deaths", "fieldName": "deaths", "dataTypeName": "number"},
    {"name": "Date", "fieldName": "date", "dataTypeName": "calendar_date"},
    {"name": "Autopsy", "fieldName": "autopsy", "dataTypeName": "checkbox"},
    {"name": "Location", "fieldName": "location", "dataTypeName": "point"},
    {"name": "Source", "fieldName": "source", "dataTypeName": "url"},
]

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


def make_dataset(
    client: Any,
    name: str = "Drug deaths",
    row_identifier: str | None = "record_id",
    public: bool = False,
    **extra: Any,
) -> str:
    """Create a dataset with COLUMNS through sodapy; returns its id."""
    kwargs: dict[str, Any] = {"columns": COLUMNS, "new_backend": True, **extra}
    if row_identifier:
        kwargs["row_identifier"] = row_identifier
    view = client.create(name, **kwargs)
    if public:
        client.set_permission(view["id"], "public")
    return view["id"]
