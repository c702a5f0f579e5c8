"""Controlled vocabularies of the CT Open Data Portal's metadata schema (the state's handbook)."""

from __future__ import annotations

from typing import Literal

Category = Literal[
    "Business",
    "Education",
    "Environment and Natural Resources",
    "Government",
    "Health and Human Services",
    "Housing and Development",
    "Local Government",
    "Public Safety",
    "Tax and Revenue",
    "Transportation",
]

GeographicUnit = Literal[
    "Latitude/longitude",
    "Street address",
    "Parcel (block/lot)",
    "Census block",
    "Census block group",
    "Census tract",
    "Planning District",
    "Zip code",
    "Municipality",
    "County or county-equivalent",
    "State",
    "Other",
    "Not applicable",
]

UpdateFrequency = Literal[
    "Not updated (historical only)",
    "As needed",
    "Annually",
    "Bi-annually",
    "Quarterly",
    "Bi-monthly",
    "Monthly",
    "Bi-weekly",
    "Weekly",
    "Every weekday",
    "Daily",
    "Other",
]

# Socrata licenseId values offered on data.ct.gov.
License = Literal[
    "PUBLIC_DOMAIN",
    "CC0_10",
    "CC_30_BY",
    "CC_40_BY",
    "CC_30_BY_SA",
    "CC_40_BY_SA",
    "ODC_BY",
    "ODBL",
    "OPEN_GOV_LICENSE",
]

# Why an asset may be retired (the state's retirement process, in its own words).
RetirementReason = Literal[
    "inaccurate, misleading or incomplete",
    "contains protected data",
    "discontinued, consolidated or replaced",
    "published by mistake",
    "rarely used",
    "outdated",
    "not the agency's own data",
]

DataType = Literal[
    "text",
    "number",
    "calendar_date",
    "checkbox",
    "url",
    "point",
    "multipoint",
    "line",
    "multiline",
    "polygon",
    "multipolygon",
]

# Cron schedules the portal's freshness expects, by update frequency (06:00 local time).
# None: no schedule, run on demand. Bi-weekly is approximated by the 1st and 15th.
SCHEDULE_BY_FREQUENCY: dict[str, str | None] = {
    "Daily": "0 6 * * *",
    "Every weekday": "0 6 * * 1-5",
    "Weekly": "0 6 * * 1",
    "Bi-weekly": "0 6 1,15 * *",
    "Monthly": "0 6 1 * *",
    "Bi-monthly": "0 6 1 */2 *",
    "Quarterly": "0 6 1 */3 *",
    "Bi-annually": "0 6 1 1,7 *",
    "Annually": "0 6 1 1 *",
    "As needed": None,
    "Other": None,
    "Not updated (historical only)": None,
}

# Days after which a dataset of this frequency is overdue (used by freshness in the metrics job).
MAX_AGE_DAYS_BY_FREQUENCY: dict[str, int | None] = {
    "Daily": 1,
    "Every weekday": 3,
    "Weekly": 7,
    "Bi-weekly": 14,
    "Monthly": 31,
    "Bi-monthly": 62,
    "Quarterly": 92,
    "Bi-annually": 183,
    "Annually": 366,
    "As needed": None,
    "Other": None,
    "Not updated (historical only)": None,
}

# Where the CT-specific fields live in a Socrata view's metadata.custom_fields (fieldset → field).
CUSTOM_FIELDS: dict[str, tuple[str, str]] = {
    "agency": ("Dataset Information", "Agency"),
    "row_label": ("Dataset Information", "Row Label"),
    "geographic_unit": ("Dataset Information", "Geographic Unit"),
    "temporal_coverage": ("Dataset Information", "Temporal Coverage"),
    "source_link": ("Dataset Information", "Source Link"),
    "update_frequency": ("Publishing", "Update Frequency"),
    "contact_email": ("Internal", "Contact Email"),
}
