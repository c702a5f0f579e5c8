"""The row identifier as data.ct.gov's views spell it (issue 8 §3): a field name, the column's
numeric id, or "0" for none, through the stand-in, the client, the publisher and metadata sync."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ctdata import settings
from ctdata.errors import PortalError, PublishError
from ctdata.lifecycle.portal_metadata import seed_entry
from ctdata.lifecycle.publication import sync_metadata
from ctdata.portal.client import SocrataClient
from ctdata.portal.connection import PortalConnection
from ctdata.portal.schema import PortalColumn, row_identifier_from_metadata
from ctdata.publishing import StateStore, publish_parquet
from ctdata.specs import load_agency

USER, PASSWORD = "opm.data@ct.gov", "pw-for-tests-2"
COLS = [PortalColumn("town", "Town", "text"), PortalColumn("county", "County", "text")]
# Shapes seen in views read from Socrata portals (ids are the columns' numeric ids).
REAL_COLUMNS = [
    {"id": 605256022, "fieldName": "unique_key", "name": "Unique Key"},
    {"id": 605256023, "fieldName": "created_date", "name": "Created Date"},
]


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ({"metadata": {"rowIdentifier": "0"}}, None),
        ({"metadata": {"rowIdentifier": 0}}, None),
        ({"metadata": {}}, None),
        ({"metadata": {"rowIdentifier": "unique_key"}}, "unique_key"),
        ({"metadata": {"rowIdentifier": "605256022"}}, "unique_key"),
        ({"metadata": {"rowIdentifier": 605256023}}, "created_date"),
        ({"rowIdentifierColumnId": 605256022, "metadata": {"rowIdentifier": "0"}}, "unique_key"),
    ],
)
def test_every_spelling_resolves_to_a_field_name_or_none(view, expected) -> None:
    assert row_identifier_from_metadata({**view, "columns": REAL_COLUMNS}) == expected


def test_an_identifier_naming_no_column_is_reported() -> None:
    view = {"id": "abcd-1234", "columns": REAL_COLUMNS, "metadata": {"rowIdentifier": "42"}}
    with pytest.raises(PortalError, match="'42' of dataset abcd-1234 names none of its columns"):
        row_identifier_from_metadata(view)


@pytest.fixture(scope="module")
def opm():
    return load_agency(settings.current().agencies_dir / "opm.yaml")


@pytest.fixture
def emu(tmp_path, opm):
    from socrata_emulator.testing import run_emulator

    towns = opm.dataset("towns")
    plain = towns.model_copy(update={"row_identifier": None, "portal_id": "opmt-wn02"})
    seed = {"datasets": [seed_entry(opm, towns, USER), seed_entry(opm, plain, USER)]}
    with run_emulator(tmp_path / "emu", users=[f"{USER}:{PASSWORD}"], seed=seed) as handle:
        yield handle


@pytest.fixture
def client(emu) -> SocrataClient:
    conn = PortalConnection.from_url(emu.url, username=USER, password=PASSWORD)
    return SocrataClient(conn, backoff_base_seconds=0.01)


def _file(tmp_path: Path) -> Path:
    table = pa.table({"town": ["Andover", "Ansonia"], "county": ["Tolland", "New Haven"]})
    pq.write_table(table, tmp_path / "towns.parquet")
    return tmp_path / "towns.parquet"


def test_stand_in_says_0_for_none_and_echoes_a_column_id(client) -> None:
    plain = client.get_metadata("opmt-wn02")
    assert plain["metadata"]["rowIdentifier"] == "0" and "rowIdentifierColumnId" not in plain
    keyed = client.get_metadata("opmt-wn01")
    town_id = next(c["id"] for c in keyed["columns"] if c["fieldName"] == "town")
    client.update_metadata("opmt-wn01", {"metadata": {"rowIdentifier": str(town_id)}})
    keyed = client.get_metadata("opmt-wn01")
    assert keyed["metadata"]["rowIdentifier"] == str(town_id)
    assert keyed["rowIdentifierColumnId"] == town_id
    assert row_identifier_from_metadata(keyed) == "town"


def test_publisher_keys_by_a_column_id_and_never_by_0(client, tmp_path) -> None:
    state = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    keyed = client.get_metadata("opmt-wn01")
    town_id = next(c["id"] for c in keyed["columns"] if c["fieldName"] == "town")
    client.update_metadata("opmt-wn01", {"metadata": {"rowIdentifier": town_id}})
    path = _file(tmp_path)
    result = publish_parquet(client, "opmt-wn01", path, columns=COLS, method="sync",
                             row_id="town", state=state)  # fmt: skip
    assert result.created == 2 and result.verified is True
    with pytest.raises(
        PublishError, match="needs a row identifier, but dataset opmt-wn02 has none"
    ):
        publish_parquet(client, "opmt-wn02", path, columns=COLS, method="sync", row_id=None,
                        state=state)  # fmt: skip
    appended = publish_parquet(client, "opmt-wn02", path, columns=COLS, method="append",
                               row_id=None, state=state)  # fmt: skip
    assert appended.created == 2


def test_metadata_sync_keeps_the_portal_spelling_and_then_changes_nothing(client, opm) -> None:
    towns = opm.dataset("towns")
    view = client.get_metadata(towns.portal_id)
    town_id = next(c["id"] for c in view["columns"] if c["fieldName"] == "town")
    client.update_metadata(towns.portal_id, {"metadata": {"rowIdentifier": str(town_id)}})
    plain = towns.model_copy(update={"row_identifier": None, "portal_id": "opmt-wn02"})
    for dataset in (towns, plain):
        first = sync_metadata(opm, dataset, str(dataset.portal_id), client)
        assert "description" in first["changed_fields"]  # the seed had none
        again = sync_metadata(opm, dataset, str(dataset.portal_id), client)
        assert again["changed_fields"] == []
    assert client.get_metadata(towns.portal_id)["metadata"]["rowIdentifier"] == str(town_id)
    assert client.get_metadata("opmt-wn02")["metadata"]["rowIdentifier"] == "0"
