"""Dataset metadata through real sodapy: create, read, partial update, columns, publish, delete."""

from __future__ import annotations

import re

import pytest
import requests

from tests.emulator.support import COLUMNS, make_dataset


def test_create_returns_private_unpublished_view_owned_by_caller(owner):
    view = owner.create(
        "Accidental Drug Related Deaths",
        description="One row per death",
        category="Health and Human Services",
        tags=["overdose", "ocme"],
        columns=COLUMNS,
        row_identifier="record_id",
        new_backend=True,
    )
    assert re.fullmatch(r"[a-z0-9]{4}-[a-z0-9]{4}", view["id"])
    assert view["publicationStage"] == "unpublished"
    assert view["owner"]["displayName"] == "owner@ct.gov"
    assert [c["fieldName"] for c in view["columns"]] == [c["fieldName"] for c in COLUMNS]
    assert [c["dataTypeName"] for c in view["columns"]] == [c["dataTypeName"] for c in COLUMNS]
    assert [c["position"] for c in view["columns"]] == list(range(1, len(COLUMNS) + 1))
    rid = next(c for c in view["columns"] if c["fieldName"] == "record_id")
    assert view["rowIdentifierColumnId"] == rid["id"]
    assert view["metadata"]["rowIdentifier"] == "record_id"
    assert view["tags"] == ["overdose", "ocme"]
    assert view["viewCount"] == 0 and view["downloadCount"] == 0
    assert view["grants"] == []


def test_metadata_round_trip_and_partial_update(owner):
    ds = make_dataset(owner, "Round trip")
    before = owner.get_metadata(ds)
    custom = {
        "Dataset Information": {"Agency": "OCME"},
        "Publishing": {"Update Frequency": "Monthly"},
    }
    after = owner.update_metadata(
        ds,
        {
            "description": "Updated description",
            "attribution": "Office of the Chief Medical Examiner",
            "attributionLink": "https://portal.ct.gov/ocme",
            "licenseId": "PUBLIC_DOMAIN",
            "metadata": {"custom_fields": custom},
            "columns": [{"fieldName": "town", "name": "Town of death", "description": "Where"}],
            "notARealField": 1,
        },
    )
    assert after["name"] == "Round trip"  # untouched fields keep their values
    assert after["description"] == "Updated description"
    assert after["attribution"] == "Office of the Chief Medical Examiner"
    assert after["licenseId"] == "PUBLIC_DOMAIN"
    assert after["metadata"]["custom_fields"] == custom
    town = next(c for c in after["columns"] if c["fieldName"] == "town")
    assert (town["name"], town["description"]) == ("Town of death", "Where")
    assert "notARealField" not in after
    assert after["viewLastModified"] >= before["viewLastModified"]
    assert owner.get_metadata(ds) == after


def test_row_identifier_by_column_id_and_duplicates_refused(owner):
    ds = make_dataset(owner, "No rid yet", row_identifier=None)
    view = owner.get_metadata(ds)
    assert view["metadata"]["rowIdentifier"] == "0" and "rowIdentifierColumnId" not in view
    town = next(c for c in view["columns"] if c["fieldName"] == "town")
    owner.upsert(
        ds, [{"record_id": "1", "town": "Hartford"}, {"record_id": "2", "town": "Hartford"}]
    )
    with pytest.raises(requests.HTTPError) as err:
        owner.update_metadata(ds, {"metadata": {"rowIdentifier": town["id"]}})
    assert err.value.response.status_code == 400
    assert "Hartford" in err.value.response.json()["message"]
    rid = next(c for c in view["columns"] if c["fieldName"] == "record_id")
    updated = owner.update_metadata(ds, {"metadata": {"rowIdentifier": rid["id"]}})
    assert updated["rowIdentifierColumnId"] == rid["id"]
    assert updated["metadata"]["rowIdentifier"] == rid["id"]  # echoed as it was set


def test_column_endpoints(owner, emu):
    ds = make_dataset(owner, "Columns")
    session = owner.session
    added = session.post(
        f"{emu.url}/api/views/{ds}/columns.json",
        json={"name": "Age", "fieldName": "age", "dataTypeName": "number", "description": "Years"},
    )
    assert added.status_code == 200, added.text
    col = added.json()
    assert (col["fieldName"], col["dataTypeName"], col["position"]) == ("age", "number", 8)
    owner.upsert(ds, [{"record_id": "1", "age": "41"}])
    renamed = session.put(
        f"{emu.url}/api/views/{ds}/columns/{col['id']}.json", json={"name": "Age at death"}
    )
    assert renamed.json()["name"] == "Age at death"
    assert owner.get(ds, select="age") == [{"age": "41"}]
    gone = session.delete(f"{emu.url}/api/views/{ds}/columns/{col['id']}.json")
    assert gone.status_code == 200
    assert "age" not in [c["fieldName"] for c in owner.get_metadata(ds)["columns"]]
    bad = session.post(
        f"{emu.url}/api/views/{ds}/columns.json", json={"name": "X", "dataTypeName": "blob"}
    )
    assert bad.status_code == 400 and "blob" in bad.json()["message"]
    missing = session.delete(f"{emu.url}/api/views/{ds}/columns/1.json")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_publish_and_set_permission(owner, anon):
    ds = make_dataset(owner, "Publish me")
    assert owner.publish(ds)["publicationStage"] == "published"
    with pytest.raises(requests.HTTPError) as err:
        anon.get_metadata(ds)
    assert err.value.response.status_code == 401
    owner.set_permission(ds, "public")
    assert anon.get_metadata(ds)["grants"] == [{"type": "viewer", "flags": ["public"]}]
    owner.set_permission(ds, "private")
    with pytest.raises(requests.HTTPError):
        anon.get_metadata(ds)


def test_delete_dataset(owner):
    ds = make_dataset(owner, "Delete me")
    owner.delete(ds)
    with pytest.raises(requests.HTTPError) as err:
        owner.get_metadata(ds)
    assert err.value.response.status_code == 404
    assert err.value.response.json() == {
        "code": "not_found",
        "error": True,
        "message": f"Cannot find view {ds}",
    }


def test_create_validation_errors(owner, emu):
    resp = owner.session.post(f"{emu.url}/api/views.json", json={"columns": []})
    assert resp.status_code == 400 and resp.json()["error"] is True
    resp = owner.session.post(
        f"{emu.url}/api/views.json",
        json={"name": "x", "columns": [{"name": "A", "fieldName": "Bad Name"}]},
    )
    assert resp.status_code == 400 and "Bad Name" in resp.json()["message"]
    resp = owner.session.post(f"{emu.url}/api/views.json", data=b"{not json")
    assert resp.status_code == 400 and "JSON" in resp.json()["message"]
