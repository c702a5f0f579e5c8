"""What publishing does with the metadata standard: refuses substandard metadata before sending
anything, derives `temporal_coverage: auto` from the data, attaches the data dictionary."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from ctdata.errors import SpecError
from ctdata.lifecycle.coverage import coverage_of_values, merged_with_portal
from ctdata.lifecycle.data_dictionary import FILENAME, data_dictionary_csv
from ctdata.lifecycle.portal_metadata import shown_custom_field
from ctdata.lifecycle.publication import conform
from ctdata.pipeline import steps
from ctdata.pipeline.run import DatasetRun, PortalClients
from ctdata.staging import Staging


def _towns_table(years: list[str]) -> pd.DataFrame:
    rows = [
        {"town": t, "year": y, "sex": "Total", "deaths": 7, "deaths_suppressed": False}
        for t in ("Hartford", "Total")
        for y in years
    ]
    frame = pd.DataFrame(rows)
    frame["cell_id"] = frame["town"] + "|" + frame["year"] + "|Total"
    return frame


def _stage(ocme, dataset, frame: pd.DataFrame, run: str) -> dict[str, str]:
    """The publishable table as the step making it stages it."""
    staging = Staging()
    path = staging.path(ocme.code, dataset.slug, run, "publishable")
    return {"path": staging.write_frame(conform(frame, dataset), path)}


def _run(ocme, dataset, client) -> DatasetRun:
    return DatasetRun(agency=ocme, dataset=dataset, run_id="r", portals=PortalClients.of(client))


def test_coverage_auto_is_derived_and_the_dictionary_attached_once(ocme, portal, tmp_path) -> None:
    towns = ocme.dataset("deaths_by_town")
    prepared = _stage(ocme, towns, _towns_table(["2013", "2015", "Total"]), "run1")
    with portal() as client:
        run = _run(ocme, towns, client)
        published = steps.publish(run, prepared)
        assert published["temporal_coverage"] == "2013 - 2015"  # 'Total' rows ignored
        synced = steps.sync_metadata(run, published)
        view = client.get_metadata(towns.portal_id)
        assert shown_custom_field(view, "temporal_coverage") == "2013 - 2015"
        assert synced["data_dictionary"] == "attached"
        [attachment] = view["metadata"]["attachments"]
        assert attachment["filename"] == FILENAME
        [downloaded] = client.soda.download_attachments(towns.portal_id, download_dir=tmp_path)
        assert Path(downloaded).read_bytes() == data_dictionary_csv(towns)  # as sodapy reads it

        # A second run: nothing to change, nothing uploaded again.
        requests_before = client.stats.requests
        again = steps.sync_metadata(run, {"temporal_coverage": "2013 - 2015"})
        assert again["changed_fields"] == [] and again["data_dictionary"] == "unchanged"
        assert client.stats.requests - requests_before <= 5  # view, attachment check, publish state
        # Without a derived value (e.g. sync retried alone) the portal keeps what it shows.
        kept = steps.sync_metadata(run)
        assert kept["changed_fields"] == [] and kept["temporal_coverage"] == "2013 - 2015"


def test_data_dictionary_lists_every_column(ocme) -> None:
    records = ocme.dataset("deaths_records")
    rows = list(csv.reader(io.StringIO(data_dictionary_csv(records).decode())))
    assert rows[0] == ["Column", "API Field Name", "Type", "Description"]
    assert [r[1] for r in rows[1:]] == records.field_names
    assert rows[2] == ["Year", "year", "Number", "Year of death"]
    assert data_dictionary_csv(records) == data_dictionary_csv(records)  # same bytes each run


def test_publishing_refuses_substandard_metadata_before_sending(ocme, portal) -> None:
    towns = ocme.dataset("deaths_by_town")
    bad_meta = towns.metadata.model_copy(update={"title": "OCME Deaths"})
    bad = towns.model_copy(update={"metadata": bad_meta})
    prepared = _stage(ocme, towns, _towns_table(["2016"]), "run2")
    with portal() as client:
        rows_before = client.count_rows(towns.portal_id)
        requests_before = client.stats.requests
        with pytest.raises(SpecError, match="acronym 'OCME'"):
            steps.publish(_run(ocme, bad, client), prepared)
        assert client.stats.requests == requests_before
        assert client.count_rows(towns.portal_id) == rows_before


@pytest.mark.parametrize(
    ("values", "kind", "expected"),
    [
        ([2014, 2012.0, None, "Total"], "year", "2012 - 2014"),
        (["2018"], "year", "2018"),
        (
            [pd.Timestamp("2024-03-31"), pd.Timestamp("2024-01-01")],
            "date",
            "2024-01-01 - 2024-03-31",
        ),  # fmt: skip
        (["Total", None], "year", None),
    ],
)
def test_coverage_of_values(values, kind, expected) -> None:
    assert coverage_of_values(values, kind) == expected


def test_accumulating_datasets_keep_the_earliest_start(ocme) -> None:
    records = ocme.dataset("deaths_records")  # sync: the table is the whole dataset
    assert merged_with_portal("2018 - 2019", "2012 - 2017", records) == "2018 - 2019"
    upserted = records.model_copy(update={"publish": records.publish.model_copy(update={"method": "upsert"})})  # fmt: skip
    assert merged_with_portal("2018 - 2019", "2012 - 2017", upserted) == "2012 - 2019"
    assert merged_with_portal("2019", "2012 - 2018", upserted) == "2012 - 2019"
