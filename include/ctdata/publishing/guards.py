"""Guards: nothing is sent unless the source fits the portal dataset.

Before the first request that writes: the columns of spec, source and portal agree (names and
types), the row identifier matches the portal's, every value fits its column's type and every
row identifier is present and unique. Each failure names the columns, the row numbers and
example rows, and says what to do.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ctdata.errors import PublishError
from ctdata.geometry import GEOMETRY_TYPES, is_geometry_type
from ctdata.portal.schema import PortalColumn
from ctdata.publishing import canonical as canon
from ctdata.publishing.segments import Fingerprints
from ctdata.publishing.source import SourceFile, short


def check_schema(
    dataset_id: str,
    pf: pq.ParquetFile,
    spec: list[PortalColumn],
    portal: list[PortalColumn],
    allow_new_columns: bool,
) -> list[PortalColumn]:
    """Compare field names and types; returns the spec's columns the portal lacks (to add)."""
    source_fields = list(pf.schema_arrow.names)
    spec_by = {c.field_name: c for c in spec}
    portal_by = {c.field_name: c for c in portal}
    problems: list[str] = []
    extra = [f for f in source_fields if f not in spec_by]
    if extra:
        problems.append(f"source columns not in the dataset spec: {', '.join(extra)}")
    missing = [c.field_name for c in spec if c.field_name not in source_fields]
    if missing:
        problems.append(f"spec columns missing from the source: {', '.join(missing)}")
    retyped = [
        f"{c.field_name} ({c.data_type} in the spec, {portal_by[c.field_name].data_type} on "
        "the portal)"
        for c in spec
        if c.field_name in portal_by
        and canon.canonical_type(c.data_type)
        != canon.canonical_type(portal_by[c.field_name].data_type)
    ]
    if retyped:
        problems.append(f"columns retyped: {', '.join(retyped)}")
    new = [c for c in spec if c.field_name not in portal_by]
    if new and not allow_new_columns:
        names = ", ".join(c.field_name for c in new)
        problems.append(
            f"columns not on portal dataset {dataset_id}: {names} (set allow_new_columns / "
            "--allow-new-columns to add them)"
        )
    removed = [f for f in portal_by if f not in spec_by]
    if removed:
        problems.append(
            f"portal columns absent from the spec and source: {', '.join(removed)} (add them "
            "back to the source, or remove them from the dataset on the portal)"
        )
    if problems:
        sample = pf.read_row_group(0).slice(0, 2).to_pylist() if pf.num_row_groups else []
        raise PublishError(
            f"Schema drift for dataset {dataset_id}; nothing was sent:\n  - "
            + "\n  - ".join(problems)
            + "\nExample source rows:\n"
            + "\n".join(f"  row {i + 1}: {short(r)}" for i, r in enumerate(sample))
        )
    return new


def key_field(
    dataset_id: str,
    method: str,
    row_id: str | None,
    portal_row_id: str | None,
    columns: list[PortalColumn],
) -> str | None:
    """The field rows are keyed by (None: by content); the portal must match on the same one."""
    if row_id and row_id not in {c.field_name for c in columns}:
        raise PublishError(f"Row identifier column {row_id!r} is not a column of the source.")
    if row_id and portal_row_id and row_id != portal_row_id:
        raise PublishError(
            f"Row identifier {row_id!r} differs from dataset {dataset_id}'s identifier "
            f"{portal_row_id!r} on the portal: pass --row-id {portal_row_id}."
        )
    if method == "append":
        return None
    if method == "replace" or portal_row_id:
        return portal_row_id
    raise PublishError(
        f"Method {method} needs a row identifier, but dataset {dataset_id} has none on the "
        f"portal{f' (asked for {row_id!r})' if row_id else ''}: set the dataset's row "
        "identifier on the portal, or use method append or replace."
    )


class RowChecks:
    """What the scan collects for the row guards, and the error naming what it found."""

    def __init__(self, dataset_id: str, source: SourceFile) -> None:
        self.dataset_id = dataset_id
        self.source = source
        self.problems = canon.TypeProblems()
        self.empty_ids: list[int] = []  # positions of rows without an identifier (a few)
        self.repeats: list[int] = []  # positions of rows repeating an identifier (a few)
        self.new_keys: list[np.ndarray] = []  # keys not on the portal yet (repeats among them)

    def note_batch(self, first: int, ids: pa.Array) -> None:
        if len(self.empty_ids) < 3:
            missing = np.flatnonzero(pc.is_null(ids).to_numpy(zero_copy_only=False))
            self.empty_ids.extend((missing + first).tolist()[: 3 - len(self.empty_ids)])

    def note_repeats_on_portal(self, fp: Fingerprints) -> None:
        """Rare path: positions of rows repeating an identifier the portal already holds."""
        seen: set[int] = set()
        for first, keys in self.source.key_hashes():
            _, found = fp.find(keys)
            for i in np.flatnonzero(found).tolist():
                if int(keys[i]) in seen:
                    self.repeats.append(first + i)
                seen.add(int(keys[i]))
            if len(self.repeats) >= 4:
                break

    def check(self) -> None:
        """Raise a PublishError naming misfit values, empty or repeated identifiers."""
        self._check_types()
        if self.source.row_id is None:
            return
        rid = self.source.row_id.field_name
        if self.empty_ids:
            self._fail(
                f"Row identifier column {rid} is empty in some rows of dataset "
                f"{self.dataset_id}; nothing was sent. Every row needs a value.",
                np.array(self.empty_ids),
            )
        keys = np.concatenate(self.new_keys) if self.new_keys else np.empty(0, np.uint64)
        self.new_keys.clear()
        keys.sort()  # in place: 8 bytes a new row, no index arrays
        repeated = keys[1:] == keys[:-1]
        if repeated.any() or self.repeats:
            dup_keys = np.unique(keys[1:][repeated])[:2]
            count = int(repeated.sum()) + len(self.repeats)
            del keys, repeated
            examples = self._positions_of(dup_keys) + self.repeats  # rare: read the file again
            self._fail(
                f"Row identifier column {rid} has {count} duplicated value(s) in dataset "
                f"{self.dataset_id}; nothing was sent. Each {rid} must appear once.",
                np.unique(np.array(examples, np.int64)),
                limit=4,
            )

    def _check_types(self) -> None:
        problems = self.problems
        if not problems:
            return
        lines = [
            f"  - {col}: {n} value(s) that are not {self._type_words(col)}; e.g. "
            + "; ".join(f"row {r + 1}: {v!r}" for r, v in problems.examples[col])
            for col, n in problems.counts.items()
        ]
        first_bad = sorted({ex[0][0] for ex in problems.examples.values() if ex})
        self._fail(
            f"Values do not fit the portal's column types in dataset {self.dataset_id}; nothing "
            "was sent. Fix the source or the column type:\n" + "\n".join(lines),
            np.array(first_bad, dtype=np.int64),
        )

    def _fail(self, message: str, positions: np.ndarray, limit: int = 3) -> None:
        rows = self.source.rows_at(positions, limit=limit)
        raise PublishError(
            message + "\nExample rows:\n" + "\n".join(f"  row {n}: {short(r)}" for n, r in rows)
        )

    def _positions_of(self, wanted: np.ndarray) -> list[int]:
        """Row positions whose identifier hashes to one of `wanted` (error messages only)."""
        out: list[int] = []
        for first, keys in self.source.key_hashes():
            out.extend((np.flatnonzero(np.isin(keys, wanted)) + first).tolist())
        return out[:4]

    def _type_words(self, field_name: str) -> str:
        col = next(c for c in self.source.columns if c.field_name == field_name)
        words = {"number": "numbers", "date": "dates", "bool": "true/false",
                 "url": "links (http:// or https://)"}  # fmt: skip
        kind = canon.canonical_type(col.data_type)
        if is_geometry_type(kind):
            return f"{GEOMETRY_TYPES[kind]} geometries (GeoJSON or WKT, longitude/latitude)"
        return words.get(kind, col.data_type)
