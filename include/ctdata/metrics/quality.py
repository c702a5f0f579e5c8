"""Quality measures of one dataset: freshness against its update frequency, and metadata
completeness against the CT Open Data Portal's schema. Pure functions over catalog facts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ctdata.specs.vocabulary import CUSTOM_FIELDS, MAX_AGE_DAYS_BY_FREQUENCY

ON_TIME = "on time"
OVERDUE = "overdue"
HISTORICAL = "historical"
NO_SCHEDULE = "no schedule"
UNKNOWN = "unknown"
# Report order: what needs attention first.
FRESHNESS_ORDER = (OVERDUE, UNKNOWN, ON_TIME, NO_SCHEDULE, HISTORICAL)


@dataclass(frozen=True)
class Freshness:
    status: str
    days_overdue: int = 0
    age_days: int | None = None


def freshness(update_frequency: str | None, last_update: dt.date | None, on: dt.date) -> Freshness:
    """On time, overdue by N days, historical, no schedule (as needed/other) or unknown.

    Overdue means the data is older than the frequency's allowed age
    (`MAX_AGE_DAYS_BY_FREQUENCY`); a dataset never updated counts from its creation."""
    age = (on - last_update).days if last_update is not None else None
    if update_frequency is None or update_frequency not in MAX_AGE_DAYS_BY_FREQUENCY:
        return Freshness(UNKNOWN, 0, age)
    if update_frequency == "Not updated (historical only)":
        return Freshness(HISTORICAL, 0, age)
    max_age = MAX_AGE_DAYS_BY_FREQUENCY[update_frequency]
    if max_age is None:
        return Freshness(NO_SCHEDULE, 0, age)
    if age is None:
        return Freshness(UNKNOWN, 0, None)
    late = age - max_age
    return Freshness(OVERDUE, late, age) if late > 0 else Freshness(ON_TIME, 0, age)


def domain_metadata_key(fieldset: str, field: str) -> str:
    """How the Discovery API names a custom field in `classification.domain_metadata`."""
    return f"{fieldset}_{field}".replace(" ", "-")


CUSTOM_KEYS = {name: domain_metadata_key(*where) for name, where in CUSTOM_FIELDS.items()}


def custom_fields(entry: dict[str, Any]) -> dict[str, str]:
    """The CT custom fields of a catalog entry, by our short names (agency, update_frequency...)."""
    pairs = (entry.get("classification") or {}).get("domain_metadata") or []
    by_key = {p.get("key"): p.get("value") for p in pairs if isinstance(p, dict)}
    return {name: str(by_key[key]) for name, key in CUSTOM_KEYS.items() if by_key.get(key)}


def missing_metadata(entry: dict[str, Any]) -> list[str]:
    """Required CT schema fields a catalog entry lacks, by their display names.

    The internal Contact Email is not public in the catalog, so it is not checked here."""
    resource = entry.get("resource") or {}
    classification = entry.get("classification") or {}
    custom = custom_fields(entry)
    checks: list[tuple[str, Any]] = [
        ("Title", resource.get("name")),
        ("Description", resource.get("description")),
        ("Category", classification.get("domain_category")),
        ("Tags/Keywords", classification.get("domain_tags")),
        ("Agency", custom.get("agency")),
        ("Row Label", custom.get("row_label")),
        ("Source Link", custom.get("source_link")),
        ("Geographic Unit", custom.get("geographic_unit")),
        ("Temporal Coverage", custom.get("temporal_coverage")),
        ("Data Provided By", resource.get("attribution")),
        ("Update Frequency", custom.get("update_frequency")),
        ("License", (entry.get("metadata") or {}).get("license")),
    ]
    missing = [label for label, value in checks if not _present(value)]
    descriptions = resource.get("columns_description") or []
    if any(not _present(d) for d in descriptions):
        missing.append("Column Descriptions")
    return missing


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple):
        return any(_present(v) for v in value)
    return True
