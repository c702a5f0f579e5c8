"""Helpers for the publishing tests (imported by name): datasets, files and portal read-back.

The fixtures live in conftest.py."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ctdata.portal.client import SocrataClient
from ctdata.portal.connection import PortalConnection
from ctdata.portal.schema import PortalColumn

USER, PASSWORD = "ocme@ct.gov", "secret-pw-123"
COLUMNS = [
    PortalColumn("record_id", "Record ID", "text"),
    PortalColumn("town", "Town", "text"),
    PortalColumn("deaths", "Deaths", "number"),
    PortalColumn("date", "Date", "calendar_date"),
    PortalColumn("confirmed", "Confirmed", "checkbox"),
]


def dataset_seed(ds_id: str, row_identifier: str | None = "record_id", columns=None) -> dict:
    return {
        "id": ds_id,
        "name": f"Test {ds_id}",
        "owner": USER,
        "public": True,
        "rowIdentifier": row_identifier,
        "columns": [
            {
                "fieldName": c.field_name,
                "name": c.name,
                "dataTypeName": c.data_type,
                "description": "",
            }
            for c in (columns or COLUMNS)
        ],
    }


def make_rows(n: int, start: int = 0, version: int = 0) -> list[dict[str, Any]]:
    """Rows as a CSV gives them (all text); `version` changes the numbers."""
    return [
        {
            "record_id": f"R{i:07d}",
            "town": ["Hartford", 'New "Haven"', "Stamford\nSouth", "Mystic, CT", ""][i % 5],
            "deaths": str(i % 97 + version),
            "date": f"2020-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
            "confirmed": "true" if i % 3 else "false",
        }
        for i in range(start, start + n)
    ]


def write_parquet(path: Path, rows: list[dict[str, Any]], fields: list[str] | None = None) -> Path:
    fields = fields or [c.field_name for c in COLUMNS]
    table = pa.table({f: pa.array([r.get(f) for r in rows], pa.string()) for f in fields})
    pq.write_table(table, path)
    return path


def write_csv(path: Path, rows: list[dict[str, Any]], fields: list[str] | None = None) -> Path:
    fields = fields or [c.field_name for c in COLUMNS]
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def normalize(row: dict[str, Any]) -> tuple:
    """A row's meaning, independent of how the file or the portal spells the values."""
    out = []
    for c in COLUMNS:
        v = row.get(c.field_name)
        if v in (None, ""):
            out.append(None)
        elif c.data_type == "number":
            out.append(float(v))
        elif c.data_type == "checkbox":
            out.append(str(v).lower() == "true")
        elif c.data_type == "calendar_date":
            out.append(str(v)[:10])
        else:
            out.append(str(v))
    return tuple(out)


def portal_multiset(client: SocrataClient, ds_id: str) -> Counter:
    return Counter(normalize(r) for r in client.read_rows(ds_id, page_size=5000))


def source_multiset(rows: list[dict[str, Any]]) -> Counter:
    return Counter(normalize(r) for r in rows)


def client_for(url: str, **kwargs: Any) -> SocrataClient:
    conn = PortalConnection.from_url(url, username=USER, password=PASSWORD)
    kwargs.setdefault("backoff_base_seconds", 0.02)
    kwargs.setdefault("max_retry_seconds", 60)
    return SocrataClient(conn, **kwargs)


def create_dataset(
    client: SocrataClient, row_identifier: str | None = "record_id", columns=None
) -> str:
    meta = client.create_dataset(
        "Test dataset", list(columns or COLUMNS), row_identifier=row_identifier
    )
    return str(meta["id"])


def fresh_multiset(client: SocrataClient, ds_id: str, timeout: float = 60.0) -> Counter:
    """The portal's rows once its reads have caught up with the latest writes."""
    import time

    deadline = time.monotonic() + timeout
    while client.read_page(ds_id, select="count(*)", order=None).out_of_date:
        assert time.monotonic() < deadline, f"reads of {ds_id} stayed out of date"
        time.sleep(0.2)
    return portal_multiset(client, ds_id)
