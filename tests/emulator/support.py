"""Accounts, columns and helpers the emulator tests share (the fixtures are in conftest.py)."""

from __future__ import annotations

from typing import Any

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
