"""Publication glue: conforming frames to the portal's columns, and metadata kept in line."""

from __future__ import annotations

import pandas as pd
import pytest

from ctdata import settings
from ctdata.errors import SourceError
from ctdata.lifecycle.portal_metadata import metadata_changes, view_metadata
from ctdata.lifecycle.publication import conform
from ctdata.specs import load_agency


@pytest.fixture(scope="module")
def ocme():
    return load_agency(settings.current().agencies_dir / "ocme.yaml")


def test_conform_orders_and_types_columns_as_the_portal_does(ocme) -> None:
    records = ocme.dataset("deaths_records")
    frame = pd.DataFrame({field: [1, 0] for field in records.field_names[4:]})
    frame = frame.assign(sex=["Male", "Female"], age_group=["20-29", "Unknown"], year=[2012, 2013])
    frame = frame.assign(record_id=["a" * 16, "b" * 16], extra="dropped")
    out = conform(frame, records)
    assert list(out.columns) == records.field_names
    assert out["heroin"].dtype == "boolean" and out["heroin"].tolist() == [True, False]
    assert out["sex"].dtype == "string"


def test_conform_names_missing_columns(ocme) -> None:
    with pytest.raises(SourceError, match="column\\(s\\) record_id, year"):
        conform(pd.DataFrame({"sex": ["Male"]}), ocme.dataset("deaths_records"))


def test_metadata_in_line_needs_no_change_and_drift_is_repaired(ocme) -> None:
    towns = ocme.dataset("deaths_by_town")
    wanted = view_metadata(ocme, towns)
    assert wanted["metadata"]["custom_fields"]["Publishing"]["Update Frequency"] == "Annually"
    assert wanted["metadata"]["custom_fields"]["Dataset Information"]["Agency"] == ocme.name
    portal = {**wanted, "id": towns.portal_id, "viewCount": 3, "publicationStage": "published"}
    assert metadata_changes(portal, wanted) == {}

    edited = {**portal, "description": "edited by hand", "tags": []}
    edited["columns"] = [dict(c, description="") for c in wanted["columns"]]
    assert sorted(metadata_changes(edited, wanted)) == ["columns", "description", "tags"]
