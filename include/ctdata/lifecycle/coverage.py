"""`temporal_coverage: auto`: the coverage written from the data itself, so the portal never
promises years the dataset does not hold.

The column read is the dataset's year column, else its first date column (see
`ctdata.specs.metadata_checks.coverage_column`, which lint checks). Values that are not years
or dates (a 'Total' row, blanks) are ignored. A dataset whose rows accumulate (upsert, append)
keeps the earliest start the portal already shows, since one run sends only some of its rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from ctdata.specs import guidelines
from ctdata.specs.metadata_checks import coverage_column
from ctdata.specs.models import DatasetSpec

_YEAR = re.compile(r"^\s*(\d{4})(?:\.0+)?\s*$")
ACCUMULATING_METHODS = frozenset({"upsert", "append"})


def is_auto(dataset: DatasetSpec) -> bool:
    return dataset.metadata.temporal_coverage.strip().lower() == guidelines.AUTO


def coverage_of_values(values: Iterable[Any], kind: str) -> str | None:
    """'2012 - 2018' from years, '2024-01-01 - 2024-03-31' from dates; None when no value is
    a year (or a date)."""
    points = sorted(p for p in map(_date_point if kind == "date" else _year_point, values) if p)
    if not points:
        return None
    return guidelines.format_coverage(points[0], points[-1])


def _year_point(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    match = _YEAR.match(str(value))
    return match.group(1) if match else None


def _date_point(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    text = str(value)
    return text[:10] if re.match(r"^\d{4}-\d{2}-\d{2}", text) else None


def coverage_of_parquet(handle: Any, dataset: DatasetSpec) -> str | None:
    """The coverage of a staged publishable table (only the one column is read)."""
    import pyarrow.parquet as pq

    column = coverage_column([c.model_dump() for c in dataset.columns])
    if column is None:
        return None
    values = pq.read_table(handle, columns=[column["field"]]).column(0).to_pylist()
    return coverage_of_values(values, "date" if column["type"] == "calendar_date" else "year")


def merged_with_portal(derived: str, shown: str | None, dataset: DatasetSpec) -> str:
    """For datasets whose rows accumulate, widen the derived interval to what the portal shows."""
    if dataset.publish.method not in ACCUMULATING_METHODS or not shown:
        return derived
    new, old = guidelines.parse_coverage(derived), guidelines.parse_coverage(shown)
    if new is None or old is None or len(new.start) != len(old.start):
        return derived
    ends = [e for e in (new.end or new.start, old.end or old.start) if e != "present"]
    return guidelines.format_coverage(min(new.start, old.start), max(ends))
