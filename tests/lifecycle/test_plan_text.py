"""A plan in words, and the metadata fields it reports (the portal's own spellings are not
differences)."""

from __future__ import annotations

from ctdata.lifecycle.columns import ColumnChanges
from ctdata.lifecycle.plan import DatasetPlan, RowChanges, metadata_field_changes
from ctdata.lifecycle.portal_metadata import view_metadata
from tests.lifecycle.support import NEW


def test_the_plan_says_what_would_change_with_examples() -> None:
    rows = RowChanges(
        rows=72, created=1, changed=2, deleted=1,
        created_examples=[{"age_group": "Unknown", "year": "2019", "deaths": None}],
        changed_examples=[{"_key": "Under 20|2015", "deaths": ["10", "7"]}],
        deleted_examples=["Unknown|2011"],
    )  # fmt: skip
    plan = DatasetPlan(
        "ocme", NEW, "Deaths by Age", "abcd-1234", rows,
        metadata=[], columns=ColumnChanges(added=["rate"]), review=["columns added: rate"],
    )  # fmt: skip
    assert plan.describe("https://data.ct.gov").splitlines() == [
        f"ocme/{NEW}: Deaths by Age",
        "  dataset: abcd-1234 (https://data.ct.gov/d/abcd-1234)",
        "  rows: 72 publishable; 1 created, 2 changed, 1 deleted, 69 unchanged",
        "    + age_group=Unknown, year=2019, deaths=(empty)",
        "    ~ Under 20|2015: deaths: 10 -> 7",
        "    - Unknown|2011",
        "  columns added: rate",
        "  metadata: in line with the spec",
        "  review: OPM would be asked first (columns added: rate)",
    ]


def test_a_dataset_in_line_sends_nothing() -> None:
    plan = DatasetPlan("ocme", NEW, "Deaths by Age", "abcd-1234", RowChanges(72, 0, 0, 0))
    assert not plan.sends_anything
    assert plan.describe("x").endswith("nothing to send: the portal already holds this")
    created = DatasetPlan("ocme", NEW, "Deaths by Age", None, RowChanges(72, 72, 0, 0))
    assert created.sends_anything and "would be created, private" in created.describe("x")


def test_metadata_differences_field_by_field(ocme) -> None:
    dataset = ocme.dataset(NEW)
    wanted = view_metadata(ocme, dataset)
    portal = {**wanted, "columns": [{**c, "id": 900 + i} for i, c in enumerate(wanted["columns"])]}
    # The portal names the row identifier by the column's id: the same identifier.
    portal["metadata"] = {**wanted["metadata"], "rowIdentifier": "904"}
    assert metadata_field_changes(portal, wanted) == []

    portal["description"] = "Old text"
    fieldsets = wanted["metadata"]["custom_fields"]
    portal["metadata"] = {**portal["metadata"], "custom_fields": {
        **fieldsets, "Publishing": {**fieldsets["Publishing"], "Update Frequency": "Monthly"}}}  # fmt: skip
    portal["columns"][2] = {**portal["columns"][2], "description": ""}
    changes = {c.field: (c.portal, c.spec) for c in metadata_field_changes(portal, wanted)}
    assert changes == {
        "description": ("Old text", dataset.metadata.description),
        "Publishing: Update Frequency": ("Monthly", "Annually"),
        "column deaths description": ("", dataset.columns[2].description),
    }
