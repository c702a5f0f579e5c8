"""The data dictionary attached to each dataset (the CT schema's "Attachments"): one row per
column with its display name, API field name, type and description, built from the spec so it
always matches the published columns. Deterministic bytes, so attaching it again sends nothing.
"""

from __future__ import annotations

import csv
import io

from ctdata.specs.models import DatasetSpec

FILENAME = "data-dictionary.csv"
TYPE_LABELS = {
    "text": "Text",
    "number": "Number",
    "calendar_date": "Date and time",
    "checkbox": "True or false",
    "url": "Web address",
    "point": "Point (longitude, latitude)",
    "multipoint": "Points (longitude, latitude)",
    "line": "Line (longitude, latitude)",
    "multiline": "Lines (longitude, latitude)",
    "polygon": "Polygon (longitude, latitude)",
    "multipolygon": "Multipolygon (longitude, latitude)",
}
HEADER = ("Column", "API Field Name", "Type", "Description")
ATTACHMENT_NAME = "Data dictionary"


def data_dictionary_csv(dataset: DatasetSpec) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for column in dataset.columns:
        label = TYPE_LABELS.get(column.type, column.type)
        writer.writerow((column.name, column.field, label, column.description))
    return out.getvalue().encode("utf-8")
