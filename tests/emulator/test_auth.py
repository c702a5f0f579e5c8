"""Auth rules and Socrata's error bodies: 401 / 403 / 404, app tokens, owner vs admin."""

from __future__ import annotations

import pytest
import requests

from socrata_emulator.testing import sodapy_client
from tests.emulator.support import OWNER, TOKEN, make_dataset

UNAUTH = {
    "code": "authentication_required",
    "error": True,
    "message": "You must be logged in to access this resource",
}


def _status(exc: pytest.ExceptionInfo) -> tuple[int, dict]:
    return exc.value.response.status_code, exc.value.response.json()


def test_anonymous_writes_are_401(owner, anon):
    ds = make_dataset(owner, public=True)
    with pytest.raises(requests.HTTPError) as err:
        anon.upsert(ds, [{"record_id": "a"}])
    assert _status(err) == (401, UNAUTH)
    with pytest.raises(requests.HTTPError) as err:
        anon.create("Nope", columns=[])
    assert _status(err) == (401, UNAUTH)
    assert owner.get(ds) == []


def test_wrong_password_is_401_even_for_public_reads(owner, emu):
    ds = make_dataset(owner, public=True)
    bad = sodapy_client(emu, OWNER[0], "wrong", app_token=TOKEN)
    with pytest.raises(requests.HTTPError) as err:
        bad.get(ds)
    assert _status(err) == (401, UNAUTH)


def test_other_user_gets_403_admin_may_write(owner, other, admin):
    ds = make_dataset(owner)
    with pytest.raises(requests.HTTPError) as err:
        other.upsert(ds, [{"record_id": "a"}])
    status, body = _status(err)
    assert status == 403 and body["code"] == "permission_denied" and body["error"] is True
    with pytest.raises(requests.HTTPError) as err:
        other.get(ds)
    assert _status(err)[0] == 403
    with pytest.raises(requests.HTTPError) as err:
        other.update_metadata(ds, {"name": "hijack"})
    assert _status(err)[0] == 403
    assert admin.upsert(ds, [{"record_id": "a"}])["Rows Created"] == 1
    admin.update_metadata(ds, {"description": "by admin"})
    assert owner.get_metadata(ds)["description"] == "by admin"
    assert owner.get_metadata(ds)["owner"]["displayName"] == OWNER[0]


def test_unknown_dataset_is_404(owner, anon):
    for call in (
        lambda: anon.get("abcd-1234"),
        lambda: owner.upsert("abcd-1234", [{}]),
        lambda: anon.get_metadata("abcd-1234"),
    ):
        with pytest.raises(requests.HTTPError) as err:
            call()
        status, body = _status(err)
        assert status == 404 and body["code"] == "not_found" and body["error"] is True
        assert "abcd-1234" in body["message"]


def test_unknown_app_token_is_403(owner, emu):
    ds = make_dataset(owner, public=True)
    client = sodapy_client(emu, app_token="stolen-token")
    with pytest.raises(requests.HTTPError) as err:
        client.get(ds)
    status, body = _status(err)
    assert status == 403 and body["error"] is True and "app_token" in body["message"]
    header_case = requests.get(
        f"{emu.url}/resource/{ds}.json", headers={"x-app-token": TOKEN}, timeout=10
    )
    assert header_case.status_code == 200


def test_unknown_route_and_method(emu):
    resp = requests.get(f"{emu.url}/api/nothing-here", timeout=10)
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    resp = requests.patch(f"{emu.url}/api/catalog/v1", timeout=10)
    assert resp.status_code == 405 and resp.json()["error"] is True
