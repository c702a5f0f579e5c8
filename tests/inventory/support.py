"""Accounts, dates and the hand-published dataset the inventory tests share (the fixtures are
in conftest.py)."""

from __future__ import annotations

import datetime as dt

PUBLISHER = ("publisher@ct.gov", "publisher-pw")
DAY = dt.date(2027, 7, 10)  # the plan's county table (target 2027-06-30) is 10 days late
PUBLIC = {"ocme-twn7", "opmt-wn01"}  # deaths_records stays an unpublished draft
BY_HAND = {
    "id": "ocme-hnd1",
    "name": "Drug Toxicity Testing Turnaround Times",
    "owner": PUBLISHER[0],
    "public": True,
    "published": True,
    "description": "Days between a case and its toxicology result, by month, kept by hand.",
    "category": "Health and Human Services",
    "attribution": "Office of the Chief Medical Examiner",
    "columns": [{"fieldName": "month", "name": "Month", "dataTypeName": "text"}],
}
