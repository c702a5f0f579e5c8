"""When OPM must review (first publication, columns added, removed or retyped), what the
reviewer reads, and how approved column changes reach the portal."""

from __future__ import annotations

import pandas as pd
import pytest

from ctdata.lifecycle.columns import apply_column_changes, portal_signature
from ctdata.lifecycle.review import decision, review_need
from ctdata.lifecycle.review_request import review_request
from ctdata.specs.models import Column
from tests.lifecycle.support import NEW, client_for, onboard

PUBLIC = [{"type": "viewer", "flags": ["public"]}]


def _view(dataset, public: bool, columns=None) -> dict:
    columns = columns if columns is not None else [(c.field, c.type) for c in dataset.columns]
    return {
        "grants": PUBLIC if public else [],
        "columns": [
            {"fieldName": f, "dataTypeName": t, "position": i} for i, (f, t) in enumerate(columns)
        ],  # fmt: skip
    }


def _with_columns(dataset, columns):
    return dataset.model_copy(update={"columns": columns})


def _approve(registry, dataset) -> None:
    registry.record_decision(decision("ocme", dataset, None, approved=True, reviewer="ann"))


def test_first_publication_needs_review(ocme, registry) -> None:
    dataset = ocme.dataset(NEW)
    need = review_need("ocme", dataset, _view(dataset, public=False), registry)
    assert need.reasons == ["first publication"] and not need.already_public


def test_a_private_dataset_needs_no_review(ocme, registry) -> None:
    dataset = ocme.dataset(NEW).model_copy(update={"public": False})
    assert not review_need("ocme", dataset, _view(dataset, public=False), registry)


def test_a_dataset_public_before_reviews_existed_is_taken_as_approved(ocme, registry) -> None:
    dataset = ocme.dataset("deaths_by_town")
    need = review_need("ocme", dataset, _view(dataset, public=True), registry)
    assert not need and need.already_public
    changed = _view(dataset, public=True, columns=[("town", "text"), ("deaths", "text")])
    need = review_need("ocme", dataset, changed, registry)
    assert need and not need.already_public
    assert "columns retyped: deaths (text to number) on the public dataset" in need.reasons


def test_no_review_again_once_approved_until_the_columns_change(ocme, registry) -> None:
    dataset = ocme.dataset(NEW)
    _approve(registry, dataset)
    assert not review_need("ocme", dataset, _view(dataset, public=True), registry)

    cols = list(dataset.columns)
    extra = Column(name="Rate", field="rate", type="number", description="Deaths per 100,000")
    retyped = cols[1].model_copy(update={"type": "number"})
    changed = _with_columns(dataset, [cols[0], retyped, *cols[2:4], extra])  # cell_id removed
    need = review_need("ocme", changed, _view(dataset, public=True), registry)
    assert need.changes.added == ["rate"] and need.changes.removed == ["cell_id"]
    assert need.changes.retyped == [("year", "text", "number")]
    assert all(r.endswith(f"since ann approved them on {pd.Timestamp.now('UTC'):%Y-%m-%d}")
               for r in need.reasons)  # fmt: skip
    # A rejection does not count as an approval of the change.
    registry.record_decision(decision("ocme", changed, None, approved=False, reviewer="bob"))
    assert review_need("ocme", changed, _view(dataset, public=True), registry)


@pytest.fixture
def by_age_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age_group": ["Under 20", "Under 20", "20-29", "Total"],
            "year": ["2012", "Total", "2012", "Total"],
            "deaths": pd.array([None, 52, 69, 5105], dtype="Int64"),
            "deaths_suppressed": [True, False, False, False],
            "cell_id": ["Under 20|2012", "Under 20|Total", "20-29|2012", "Total|Total"],
        }
    )


def test_the_reviewer_sees_what_would_be_published(ocme, registry, by_age_table) -> None:
    dataset = ocme.dataset(NEW)
    need = review_need("ocme", dataset, _view(dataset, public=False), registry)
    prepared = {"rows": 4, "cells_suppressed": 16, "primary": 10, "complementary": 6,
                "audit_passed": True}  # fmt: skip
    suites = [{"name": "ocme_deaths_by_age_publishable", "success": True}]
    validation = {"success": True, "evaluated": 16, "suites": suites}
    request = review_request(ocme, dataset, "http://portal/d/abcd-1234", need, by_age_table,
                             prepared, validation)  # fmt: skip
    body = request.body
    assert dataset.metadata.title in request.subject
    assert dataset.metadata.title in body and dataset.metadata.description in body
    assert "first publication" in body and "http://portal/d/abcd-1234" in body
    for column in dataset.columns:
        assert f"| {column.name} | `{column.field}` | {column.type} |" in body
    assert "4 rows would be published" in body
    assert "16 cells withheld (10 small counts, 0 kept hidden from earlier releases and 6 " in body
    assert "audit passed" in body and "All 16 expectations passed" in body
    assert "| Under 20 | 2012 |  | True | Under 20\\|2012 |" in body  # suppressed: blank
    assert "| Total | Total | 5105 | False | Total\\|Total |" in body


def test_record_level_data_shows_how_it_was_de_identified(ocme, registry) -> None:
    dataset = ocme.dataset("deaths_records")
    table = pd.DataFrame({"record_id": ["a1", "b2"], "year": [2012, 2013],
                          "age_group": ["Suppressed", "20-29"], "sex": ["Male", "Suppressed"]})  # fmt: skip
    need = review_need("ocme", dataset, _view(dataset, public=False), registry)
    body = review_request(ocme, dataset, "link", need, table, {"rows": 2}).body
    assert "`case_id` replaced by an anonymous keyed hash in `record_id`" in body
    assert "fewer than 6 people sharing year, age_group, sex: 2 rows read 'Suppressed'" in body


def test_approved_column_changes_are_carried_to_the_portal(ocme, portal, registry) -> None:
    dataset = ocme.dataset(NEW)
    cols = list(dataset.columns)
    extra = Column(name="Rate", field="rate", type="number", description="Deaths per 100,000")
    retyped = cols[1].model_copy(update={"type": "number"})
    changed = _with_columns(dataset, [cols[0], retyped, cols[2], cols[4], extra])
    with portal() as emulator, client_for(emulator) as client:
        portal_id = onboard(ocme, dataset, client, registry).portal_id
        changes = apply_column_changes(client, portal_id, changed)
        assert changes.removed == ["deaths_suppressed"] and changes.added == ["rate"]
        view = client.get_metadata(portal_id)
        assert portal_signature(view) == {
            "age_group": "text", "deaths": "number", "cell_id": "text", "year": "number",
            "rate": "number",
        }  # fmt: skip
        assert not apply_column_changes(client, portal_id, changed)  # in line: nothing to do
