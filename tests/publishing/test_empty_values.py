"""A value that becomes empty is cleared on the portal (issue 8 §1), for every column type.

Socrata's upsert keeps the old value of a field a row leaves out, so the publisher sends an
explicit null for every empty field of a row it creates or changes. Each test goes through the
real publishing path against the stand-in over HTTP and reads the portal back with sodapy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ctdata.portal.client import SocrataClient
from ctdata.portal.schema import PortalColumn
from ctdata.publishing import PublishingState, publish_parquet
from tests.publishing.support import (
    PASSWORD,
    USER,
    client_for,
    create_dataset,
    write_csv,
    write_parquet,
)

KEY = PortalColumn("cell_id", "Cell", "text")
TYPED = [
    PortalColumn("n", "Count", "number"),
    PortalColumn("t", "Town", "text"),
    PortalColumn("b", "Suppressed", "checkbox"),
    PortalColumn("d", "Date", "calendar_date"),
    PortalColumn("p", "Place", "point"),
    PortalColumn("u", "Link", "url"),
]
COLUMNS = [KEY, *TYPED]
FIELDS = [c.field_name for c in COLUMNS]
# What the source file holds, and how sodapy reads the same value back from the portal.
SOURCE = {"n": "7", "t": "Hartford", "b": "true", "d": "2020-03-01", "p": "POINT (-72.68 41.76)",
          "u": "https://portal.ct.gov/ocme"}  # fmt: skip
ON_PORTAL = {"n": "7", "t": "Hartford", "b": True, "d": "2020-03-01T00:00:00.000",
             "p": {"type": "Point", "coordinates": [-72.68, 41.76]},
             "u": {"url": "https://portal.ct.gov/ocme"}}  # fmt: skip
SECOND = {"n": "8", "t": "Mystic", "b": "false", "d": "2021-01-02", "p": "POINT (-71.9 41.35)",
          "u": "https://data.ct.gov"}  # fmt: skip


def _rows(empty: set[str] | dict[str, set[str]] = frozenset()) -> list[dict[str, Any]]:
    """One row per column type (cell "<field>" empties that column), one row with every value
    and one with none; `empty` names the columns emptied in the per-type rows."""
    rows = [{"cell_id": f.field_name, **SOURCE} for f in TYPED]
    for row in rows:
        if row["cell_id"] in empty:
            row[row["cell_id"]] = ""
    rows.append({"cell_id": "full", **SECOND})
    rows.append({"cell_id": "blank", **dict.fromkeys(SOURCE, "")})
    return rows


def _row_requests(client: SocrataClient) -> list[str]:
    """Record every request the client makes to the rows endpoint."""
    seen: list[str] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        if "/resource/" in response.request.url and response.request.method != "GET":
            seen.append(f"{response.request.method} {response.request.url}")

    client.soda.session.hooks["response"].append(hook)
    return seen


def _read_back(portal: Any, ds: str) -> dict[str, dict[str, Any]]:
    """The portal's rows as sodapy reads them (empty fields are absent, as on Socrata)."""
    from socrata_emulator.testing import sodapy_client

    soda = sodapy_client(portal, USER, PASSWORD)
    try:
        return {r["cell_id"]: r for r in soda.get(ds, limit=100)}
    finally:
        soda.close()


def _publish(client, ds, rows, state, tmp_path, method, **kw):
    path = write_parquet(tmp_path / f"v{len(os.listdir(tmp_path))}.parquet", rows, FIELDS)
    return publish_parquet(client, ds, path, columns=COLUMNS, method=method, row_id=None,
                           state=state, **kw)  # fmt: skip


def _assert_nothing_sent(client, ds, rows, state, tmp_path, method, **kw) -> None:
    requests = _row_requests(client)
    again = _publish(client, ds, rows, state, tmp_path, method, **kw)
    assert (again.created, again.updated, again.deleted, again.chunks) == (0, 0, 0, 0)
    assert requests == [], "a rerun must not send any row"


@pytest.mark.parametrize("method", ["sync", "upsert", "replace"])
def test_each_type_goes_empty_and_back(
    portal, state: PublishingState, tmp_path: Path, method
) -> None:
    client = client_for(portal.url)
    ds = create_dataset(client, row_identifier="cell_id", columns=COLUMNS)
    full = _rows()
    _publish(client, ds, full, state, tmp_path, method)
    on_portal = _read_back(portal, ds)
    for field in TYPED:
        assert on_portal[field.field_name] == {"cell_id": field.field_name, **ON_PORTAL}
    assert on_portal["blank"] == {"cell_id": "blank"}

    emptied = _rows({f.field_name for f in TYPED})
    result = _publish(client, ds, emptied, state, tmp_path, method)
    assert (result.created, result.updated, result.deleted) == (0, len(TYPED), 0)
    on_portal = _read_back(portal, ds)
    for field in TYPED:
        expected = {"cell_id": field.field_name, **ON_PORTAL}
        del expected[field.field_name]
        assert on_portal[field.field_name] == expected, f"{field.data_type} was not cleared"
    _assert_nothing_sent(client, ds, emptied, state, tmp_path, method)

    result = _publish(client, ds, full, state, tmp_path, method)
    assert result.updated == len(TYPED)
    on_portal = _read_back(portal, ds)
    for field in TYPED:
        assert on_portal[field.field_name] == {"cell_id": field.field_name, **ON_PORTAL}
    _assert_nothing_sent(client, ds, full, state, tmp_path, method)


def test_reconcile_clears_a_value_put_back_by_hand(portal, state, tmp_path) -> None:
    """The source has no value, someone types one back on the portal: reconcile clears it."""
    client = client_for(portal.url)
    ds = create_dataset(client, row_identifier="cell_id", columns=COLUMNS)
    emptied = _rows({f.field_name for f in TYPED})
    _publish(client, ds, emptied, state, tmp_path, "sync")
    hand_edits = [{"cell_id": f.field_name, f.field_name: ON_PORTAL[f.field_name]} for f in TYPED]
    client.upsert(ds, hand_edits)

    plain = _publish(client, ds, emptied, state, tmp_path, "sync")
    assert plain.updated == 0, "without reconcile the fingerprints cannot see a hand edit"
    repaired = _publish(client, ds, emptied, state, tmp_path, "sync", reconcile=True)
    assert (repaired.created, repaired.updated, repaired.deleted) == (0, len(TYPED), 0)
    on_portal = _read_back(portal, ds)
    for field in TYPED:
        assert field.field_name not in on_portal[field.field_name], field.data_type
    _assert_nothing_sent(client, ds, emptied, state, tmp_path, "sync", reconcile=True)


def test_issue_scenario_with_publish_file(portal, tmp_path) -> None:
    """`ctdata publish-file --method sync`: a count published one run, suppressed the next."""
    client = client_for(portal.url)
    columns = [PortalColumn("cell_id", "Cell", "text"), PortalColumn("deaths", "Deaths", "number"),
               PortalColumn("deaths_suppressed", "Suppressed", "checkbox")]  # fmt: skip
    ds = create_dataset(client, row_identifier="cell_id", columns=columns)
    fields = [c.field_name for c in columns]
    csv_path = tmp_path / "deaths.csv"
    env = {**os.environ, "SOCRATA_USERNAME": USER, "SOCRATA_PASSWORD": PASSWORD}

    def publish_file(*extra: str) -> str:
        cmd = [sys.executable, "-m", "ctdata.cli", "publish-file", "--portal", portal.url,
               "--dataset", ds, "--method", "sync", "--state-url",
               f"sqlite:///{tmp_path / 'state.db'}", *extra, str(csv_path)]  # fmt: skip
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    write_csv(csv_path, [{"cell_id": "A", "deaths": "7", "deaths_suppressed": "false"}], fields)
    assert "rows created 1" in publish_file()
    assert _read_back(portal, ds)["A"] == {"cell_id": "A", "deaths": "7",
                                           "deaths_suppressed": False}  # fmt: skip
    write_csv(csv_path, [{"cell_id": "A", "deaths": "", "deaths_suppressed": "true"}], fields)
    assert "updated 1" in publish_file()
    assert _read_back(portal, ds)["A"] == {"cell_id": "A", "deaths_suppressed": True}
    out = publish_file("--reconcile")
    assert "rows created 0, updated 0, deleted 0" in out, out
