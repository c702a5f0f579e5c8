"""Guards run before anything is sent; each names the columns and shows example rows."""

from __future__ import annotations

import pytest

from ctdata.errors import PublishError
from ctdata.portal.schema import PortalColumn
from ctdata.publishing import publish_parquet
from tests.publishing.support import COLUMNS, client_for, create_dataset, make_rows, write_parquet


@pytest.fixture(scope="module")
def client(portal):
    return client_for(portal.url)


def _fails(client, state, path, columns=COLUMNS, method="upsert") -> str:
    ds = create_dataset(client)
    before = client.stats.bytes_sent
    with pytest.raises(PublishError) as err:
        publish_parquet(client, ds, path, columns=columns, method=method, row_id=None, state=state)
    assert client.stats.bytes_sent == before, "a guard must fail before anything is sent"
    assert client.count_rows(ds) == 0
    assert state.journal_entries(ds)[0]["status"] == "failed"
    return str(err.value)


def test_duplicate_row_ids(client, state, tmp_path) -> None:
    rows = make_rows(20)
    rows[15]["record_id"] = rows[3]["record_id"]
    msg = _fails(client, state, write_parquet(tmp_path / "a.parquet", rows))
    assert "record_id" in msg and "duplicated" in msg
    assert "row 4:" in msg and "row 16:" in msg and rows[3]["record_id"] in msg


def test_null_row_ids(client, state, tmp_path) -> None:
    rows = make_rows(20)
    rows[7]["record_id"] = None
    rows[9]["record_id"] = ""
    msg = _fails(client, state, write_parquet(tmp_path / "a.parquet", rows))
    assert "record_id is empty" in msg and "row 8:" in msg and "row 10:" in msg


def test_values_that_do_not_fit_types(client, state, tmp_path) -> None:
    rows = make_rows(20)
    rows[2]["deaths"] = "twelve"
    rows[4]["date"] = "not a date"
    rows[5]["confirmed"] = "maybe"
    msg = _fails(client, state, write_parquet(tmp_path / "a.parquet", rows))
    assert "deaths" in msg and "row 3: 'twelve'" in msg and "numbers" in msg
    assert "date" in msg and "row 5: 'not a date'" in msg
    assert "confirmed" in msg and "row 6: 'maybe'" in msg


def test_schema_drift_added_removed_retyped(client, state, tmp_path) -> None:
    rows = make_rows(5)
    for r in rows:
        r["extra"] = "x"
    fields = ["record_id", "town", "deaths", "date", "extra"]  # confirmed removed
    columns = [
        PortalColumn("record_id", "Record ID", "text"),
        PortalColumn("town", "Town", "number"),  # retyped
        PortalColumn("deaths", "Deaths", "number"),
        PortalColumn("date", "Date", "calendar_date"),
        PortalColumn("extra", "Extra", "text"),  # added
    ]
    msg = _fails(client, state, write_parquet(tmp_path / "a.parquet", rows, fields), columns)
    assert "Schema drift" in msg
    assert "extra" in msg and "allow_new_columns" in msg
    assert "confirmed" in msg and "town (number in the spec, text on the portal)" in msg
    assert "row 1:" in msg and rows[0]["record_id"] in msg


def test_source_and_spec_disagree(client, state, tmp_path) -> None:
    rows = make_rows(5)
    fields = ["record_id", "town", "deaths", "date"]
    msg = _fails(client, state, write_parquet(tmp_path / "a.parquet", rows, fields))
    assert "spec columns missing from the source: confirmed" in msg


def test_upsert_needs_a_row_identifier(client, state, tmp_path) -> None:
    ds = create_dataset(client, row_identifier=None)
    path = write_parquet(tmp_path / "a.parquet", make_rows(5))
    with pytest.raises(PublishError, match="needs a row identifier.*append or replace"):
        publish_parquet(client, ds, path, columns=COLUMNS, method="sync", row_id=None, state=state)


def test_duplicate_of_an_already_published_row_id(client, state, tmp_path) -> None:
    ds = create_dataset(client)
    rows = make_rows(30)
    publish_parquet(
        client, ds, write_parquet(tmp_path / "a.parquet", rows), columns=COLUMNS,
        method="sync", row_id=None, state=state,
    )  # fmt: skip
    again = rows + [dict(rows[7], town="Twice")]
    with pytest.raises(PublishError, match="duplicated") as err:
        publish_parquet(
            client, ds, write_parquet(tmp_path / "b.parquet", again), columns=COLUMNS,
            method="sync", row_id=None, state=state,
        )  # fmt: skip
    assert "row 31:" in str(err.value) and rows[7]["record_id"] in str(err.value)
    assert client.count_rows(ds) == 30
