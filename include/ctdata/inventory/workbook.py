"""The inventory as spreadsheets for the agency data officers and OPM: a workbook for the High
Value Data Inventory and one for the Open Data Access Plans, each with a Summary sheet and one
sheet per agency (named by its code), headed by the same column names as the portal datasets.
Dates are date cells, links are hyperlinks, late plan items are highlighted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctdata.inventory.tables import Inventory
from ctdata.specs.access_plan import LATE, PLANNED, PUBLISHED
from ctdata.specs.models import DatasetSpec

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

HEADER_FILL = "DCE6F1"
LATE_FILL = "FDECEA"
MAX_WIDTH = 60


def write_workbooks(
    inventory: Inventory, folder: Path, high_value: DatasetSpec, plan: DatasetSpec
) -> list[Path]:
    """Write both workbooks into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    year = inventory.year
    hvdi = folder / f"high-value-data-inventory-{year}.xlsx"
    _workbook(inventory, inventory.high_value, high_value, _inventory_summary(inventory), hvdi)
    access = folder / f"open-data-access-plan-{year}.xlsx"
    _workbook(inventory, inventory.plan, plan, _plan_summary(inventory), access)
    return [hvdi, access]


def _workbook(
    inventory: Inventory,
    rows: Sequence[dict[str, Any]],
    dataset: DatasetSpec,
    summary: tuple[list[str], list[list[Any]]],
    path: Path,
) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Summary"
    _table(sheet, *summary)
    columns = [c for c in dataset.columns if c.field != "row_id"]
    for agency in inventory.agencies:
        mine = [r for r in rows if r["agency"] == agency.name]
        body = [[r.get(c.field) for c in columns] for r in mine]
        _table(book.create_sheet(agency.code.upper()[:31]), [c.name for c in columns], body)
    book.properties.title = dataset.metadata.title
    book.properties.creator = "ctdata"
    book.save(path)


def _table(sheet: Worksheet, header: list[str], body: list[list[Any]]) -> None:
    from openpyxl.styles import Font, PatternFill

    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    for values in body:
        sheet.append(values)
        _format_row(sheet, sheet.max_row, header)
    sheet.freeze_panes = "A2"
    if body:
        sheet.auto_filter.ref = sheet.dimensions
    for index, name in enumerate(header, start=1):
        longest = max([len(name), *(len(_text(row[index - 1])) for row in body)])
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = min(MAX_WIDTH, longest + 2)


def _format_row(sheet: Worksheet, row: int, header: list[str]) -> None:
    from openpyxl.styles import PatternFill

    late = False
    for cell in sheet[row]:
        if isinstance(cell.value, dt.date):
            cell.number_format = "yyyy-mm-dd"
        elif isinstance(cell.value, str) and cell.value.startswith(("http://", "https://")):
            cell.hyperlink = cell.value
            cell.style = "Hyperlink"
        late = late or (header[cell.column - 1] == "Status" and cell.value == LATE)
    if late:
        for cell in sheet[row]:
            cell.fill = PatternFill("solid", fgColor=LATE_FILL)


def _text(value: Any) -> str:
    if isinstance(value, dt.date):
        return "yyyy-mm-dd"
    return "" if value is None else str(value)


def _inventory_summary(inventory: Inventory) -> tuple[list[str], list[list[Any]]]:
    header = ["Agency", "Data Officer", "Email", "Datasets Inventoried", "Public", "Automated",
              "With Personal Information", "Views in the Past Year"]  # fmt: skip
    body = []
    officers = {o["agency"]: o for o in inventory.officers}
    for agency in inventory.agencies:
        rows = [r for r in inventory.high_value if r["agency"] == agency.name]
        body.append(
            [agency.name, officers[agency.name]["data_officer"], officers[agency.name]["email"],
             len(rows), sum(r["published"] for r in rows), sum(r["automated"] for r in rows),
             sum(str(r["personal_information"] or "").startswith("Yes") for r in rows),
             sum(r["views_last_year"] or 0 for r in rows)]
        )  # fmt: skip
    return header, [*body, _totals(body, first_numeric=3)]


def _plan_summary(inventory: Inventory) -> tuple[list[str], list[list[Any]]]:
    header = ["Agency", "Items", "Published", "Planned", "Late", "Share Published",
              "Next Target Date"]  # fmt: skip
    body = []
    for agency in inventory.agencies:
        rows = [r for r in inventory.plan if r["agency"] == agency.name]
        statuses = [r["status"] for r in rows]
        upcoming = [r["target_date"] for r in rows if r["status"] == PLANNED and r["target_date"]]
        published = statuses.count(PUBLISHED)
        body.append(
            [agency.name, len(rows), published, statuses.count(PLANNED), statuses.count(LATE),
             round(published / len(rows), 4) if rows else None, min(upcoming, default=None)]
        )  # fmt: skip
    totals = _totals([r[:5] for r in body], first_numeric=1)
    share = round(totals[2] / totals[1], 4) if totals[1] else None
    return header, [*body, [*totals, share, None]]


def _totals(body: list[list[Any]], first_numeric: int) -> list[Any]:
    """A 'Total' row summing the numeric columns from `first_numeric` on."""
    width = len(body[0]) if body else first_numeric
    sums = [sum(row[i] or 0 for row in body) for i in range(first_numeric, width)]
    return ["Total", *[None] * (first_numeric - 1), *sums]
