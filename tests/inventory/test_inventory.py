"""The yearly inventory: the tables from specs, catalog and metrics; the spreadsheets OPM asks
for; the same tables published as portal datasets; `ctdata inventory`."""

from __future__ import annotations

import datetime as dt

import pytest

from ctdata.cli import main
from ctdata.inventory import job
from ctdata.inventory.tables import AGGREGATED, DE_IDENTIFIED
from tests.inventory.support import BY_HAND, DAY, PUBLISHER


@pytest.fixture(scope="module")
def inventory(setup):
    with setup.client() as client:
        return job.build(client, DAY, agencies=setup.agencies, store=setup.store)


def _by_name(rows, name):
    [row] = [r for r in rows if r["dataset_name"] == name]
    return row


def test_high_value_inventory_rows(inventory, setup) -> None:
    ocme = next(a for a in setup.agencies if a.code == "ocme")
    rows = [r for r in inventory.high_value if r["agency"] == ocme.name]
    assert len(rows) == 5  # three from the spec, one published by hand, one planned
    towns = _by_name(rows, ocme.dataset("deaths_by_town").metadata.title)
    assert towns["row_id"] == "2027|ocme|ocme-twn7"
    assert (towns["access_level"], towns["published"], towns["automated"]) == ("Public", True, True)
    assert towns["personal_information"] == AGGREGATED and towns["source_system"] == "Database"
    assert towns["portal_link"] == f"{setup.url}/d/ocme-twn7"
    assert (towns["views_last_year"], towns["api_calls_last_year"]) == (20, 0)
    assert isinstance(towns["last_updated"], dt.date)
    records = _by_name(rows, ocme.dataset("deaths_records").metadata.title)
    assert (records["access_level"], records["published"]) == ("Private", False)
    assert records["personal_information"] == DE_IDENTIFIED
    assert records["views_last_year"] is None  # never measured
    by_hand = _by_name(rows, BY_HAND["name"])
    assert (by_hand["source_system"], by_hand["automated"], by_hand["published"]) == (
        "Published by hand", False, True,
    )  # fmt: skip
    planned = _by_name(rows, "Drug related deaths by county and quarter")
    assert (planned["access_level"], planned["portal_link"]) == ("Planned", None)
    # No portal_id and not created yet: planned, but described from its spec.
    by_age = ocme.dataset("deaths_by_age")
    onboarding = _by_name(rows, by_age.metadata.title)
    assert (onboarding["access_level"], onboarding["portal_link"]) == ("Planned", None)
    assert onboarding["automated"] and onboarding["description"] == by_age.metadata.description
    assert onboarding["personal_information"] == AGGREGATED
    assert onboarding["row_id"] == "2027|ocme|accidental-drug-related-deaths-by-age-group-and-year"


def test_access_plan_flags_late_items(inventory) -> None:
    late = [r for r in inventory.plan if r["status"] == "Late"]
    assert [(r["dataset_name"], r["days_late"], r["target_date"]) for r in late] == [
        ("Drug related deaths by county and quarter", 10, dt.date(2027, 6, 30))
    ]
    statuses = {r["dataset_name"]: r["status"] for r in inventory.plan}
    assert statuses[BY_HAND["name"]] == "Published"
    assert statuses["Accidental drug related deaths, de-identified records"] == "Planned"
    assert all(r["as_of"] == DAY for r in inventory.plan)


def test_data_officers_come_from_the_specs(inventory, setup) -> None:
    officers = {r["row_id"]: r for r in inventory.officers}
    assert set(officers) == {a.code for a in setup.agencies}
    ocme = officers["ocme"]
    assert (ocme["data_officer"], ocme["email"]) == ("OCME Agency Data Officer", "ocme.data@ct.gov")
    assert (ocme["datasets_published"], ocme["access_plan_items"], ocme["late_items"]) == (2, 5, 1)


def test_spreadsheets_have_a_summary_and_a_sheet_per_agency(inventory, setup, tmp_path) -> None:
    from openpyxl import load_workbook

    hvdi_path, plan_path = job.write(inventory, tmp_path, setup.registers)
    assert hvdi_path.name == "high-value-data-inventory-2027.xlsx"
    hvdi = load_workbook(hvdi_path)
    assert hvdi.sheetnames == ["Summary", "OCME", "OPM"]
    header = [c.value for c in hvdi["OCME"][1]]
    wanted = [c.name for c in setup.registers.high_value_inventory.columns if c.field != "row_id"]
    assert header == wanted  # the columns of the published inventory
    assert hvdi["OCME"].max_row == 6 and hvdi["OCME"].freeze_panes == "A2"
    updated = header.index("Last Updated")
    assert isinstance(hvdi["OCME"].cell(row=2, column=updated + 1).value, dt.datetime)
    summary = [[c.value for c in row] for row in hvdi["Summary"].iter_rows()]
    assert summary[1][:4] == ["Office of the Chief Medical Examiner", "OCME Agency Data Officer",
                              "ocme.data@ct.gov", 5]  # fmt: skip
    assert (
        summary[-1][0] == "Total" and summary[-1][3] == 7
    )  # OCME 5, OPM 2 (usage metrics, county boundaries)

    plan = load_workbook(plan_path)
    sheet = plan["OCME"]
    statuses = [sheet.cell(row=r, column=3).value for r in range(2, sheet.max_row + 1)]
    late_row = statuses.index("Late") + 2
    assert sheet.cell(row=late_row, column=1).fill.fgColor.rgb.endswith("FDECEA")
    assert sheet.cell(row=late_row, column=4).value == dt.datetime(2027, 6, 30)
    plan_summary = [[c.value for c in row] for row in plan["Summary"].iter_rows()]
    assert plan_summary[0][:5] == ["Agency", "Items", "Published", "Planned", "Late"]
    assert plan_summary[1][:5] == ["Office of the Chief Medical Examiner", 5, 2, 2, 1]


def test_tables_are_published_and_a_rerun_sends_nothing(inventory, setup) -> None:
    with setup.client() as client:
        first = job.publish(inventory, client, setup.registers, run_id="year-2027")
        assert first["high_value_inventory"]["created"] == 7
        assert first["access_plans"]["created"] == len(inventory.plan)
        assert first["data_officers"]["created"] == 2
        officers = list(client.read_rows(setup.registers.data_officers.portal_id))
        assert {r["row_id"] for r in officers} == {"ocme", "opm"}
        plan_rows = list(client.read_rows(setup.registers.access_plans.portal_id))
        late = [r for r in plan_rows if r["status"] == "Late"]
        assert len(late) == 1 and late[0]["days_late"] == "10"
        again = job.publish(inventory, client, setup.registers, run_id="year-2027-rerun")
        for table in again.values():
            assert table["created"] == table["updated"] == table["deleted"] == 0
        view = client.get_metadata(setup.registers.high_value_inventory.portal_id)
        coverage = view["metadata"]["custom_fields"]["Dataset Information"]["Temporal Coverage"]
        assert coverage == "2027"  # temporal_coverage: auto, from the inventory year


def test_cli_writes_the_spreadsheets(setup, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SOCRATA_USERNAME", PUBLISHER[0])
    monkeypatch.setenv("SOCRATA_PASSWORD", PUBLISHER[1])
    out = tmp_path / "out"
    code = main(["inventory", "--out", str(out), "--portal", setup.url, "--date", "2027-07-10"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "2 agencies, 7 datasets inventoried, 7 access plan items (1 late)" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "high-value-data-inventory-2027.xlsx",
        "open-data-access-plan-2027.xlsx",
    ]


def test_every_source_kind_names_its_source_system() -> None:
    """A new source kind without a name here would fail the inventories DAG at run time."""
    import typing

    from ctdata.inventory.tables import SOURCE_SYSTEMS
    from ctdata.specs.models import Source

    kinds = set()
    for model in typing.get_args(typing.get_args(Source)[0]):
        kinds |= set(typing.get_args(model.model_fields["kind"].annotation))
    assert kinds and kinds <= set(SOURCE_SYSTEMS)
