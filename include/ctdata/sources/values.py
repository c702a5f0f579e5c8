"""Values that do not fit their column, found where they arise and told as a person would look
them up: the dataset, the column, the row (1 for the first data row) and the value itself when
the table is published as it is (a private source's values stay out of messages and logs).

Two checks, both cheap on clean data: `check_batch` right after a source batch is read (a
declared column's values against its declared type, and any column mixing numbers and text,
which Parquet cannot stage), and `typed` when a table is given the portal's types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ctdata.errors import SourceValueError
from ctdata.geometry import GEOMETRY_TYPES

if TYPE_CHECKING:
    import pandas as pd

    from ctdata.specs.models import DatasetSpec

# pandas' inferred kinds of an object column that Parquet cannot store as one type
_MIXED_KINDS = frozenset({"mixed", "mixed-integer"})
_TYPE_WORDS = {"number": "a number", "calendar_date": "a date", "checkbox": "true or false"}
_KIND_WORDS = {int: "whole numbers", float: "numbers", str: "text", bool: "true/false values"}
_TRUE_FALSE = {"true": True, "false": False, "t": True, "f": False, "yes": True, "no": False,
               "y": True, "n": False, "1": True, "0": False}  # fmt: skip


def values_are_public(dataset: DatasetSpec, column: str) -> bool:
    """May a value of this column appear in a message? Only when the dataset publishes its
    records as they are (public, not aggregated, not pseudonymized or generalized) and the
    column is one of the published ones."""
    private_kinds = {"pseudonymize", "suppress_small_groups"}
    return (
        dataset.public
        and dataset.aggregation is None
        and not any(t.kind in private_kinds for t in dataset.transforms)
        and column in dataset.field_names
    )


Locate = Callable[[int], str]  # a row number -> where a person finds it ("of the file (line 9)")


def check_batch(frame: pd.DataFrame, dataset: DatasetSpec, first_row: int, locate: Locate) -> None:
    """Fail on the first value of a source batch that cannot be what the spec says.

    `first_row` is the 1-based row number of the batch's first row in the whole source."""
    declared = {c.field: c.type for c in dataset.columns}
    for column in frame.columns:
        values = frame[column]
        kind = declared.get(str(column))
        if kind in _PARSERS:
            _, bad = _parse(values, kind)
            if bad is not None:
                row = first_row + bad
                raise _error(dataset, str(column), row, values.iloc[bad], kind, locate(row))
        if values.dtype == object and kind not in GEOMETRY_TYPES:
            _check_one_kind(values, dataset, str(column), first_row, locate)


def typed(
    values: pd.Series, kind: str, dataset: DatasetSpec, column: str, first_row: int = 1
) -> pd.Series:
    """The column in the portal's type (`number`, `calendar_date`, `checkbox`, `text`, `url`;
    geometries as they are), or SourceValueError naming the first value that does not fit
    (`first_row`: the table's row number of the values' first, for a batch of a table)."""
    if kind in _PARSERS:
        parsed, bad = _parse(values, kind)
        if bad is not None:
            row = first_row + bad
            raise _error(dataset, column, row, values.iloc[bad], kind, "of the table")
        return parsed
    if kind in ("text", "url"):
        return values.astype("string")
    if kind in GEOMETRY_TYPES:
        return values
    raise ValueError(f"unknown column type {kind!r}")


def _parse(values: pd.Series, kind: str) -> tuple[pd.Series, int | None]:
    """The values parsed as `kind`, and the position of the first one that does not parse."""
    import pandas as pd

    missing = values.isna()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        text = values.astype("string").str.strip()
        missing = missing | (text == "").fillna(True)
        values = values.where(~missing)
    parsed = _PARSERS[kind](values)
    failed = (parsed.isna() & ~missing).to_numpy()
    return parsed, (int(failed.argmax()) if failed.any() else None)


def _numbers(values: pd.Series) -> pd.Series:
    import pandas as pd

    if pd.api.types.is_bool_dtype(values):
        return values.astype("Int64")
    return pd.to_numeric(values, errors="coerce")


def _dates(values: pd.Series) -> pd.Series:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    parsed = pd.to_datetime(values, errors="coerce")  # one format, inferred from the first
    retry = parsed.isna() & values.notna()
    if retry.any():  # dates written in more than one way: each read on its own
        parsed[retry] = pd.to_datetime(values[retry], errors="coerce", format="mixed")
    return parsed


def _checkboxes(values: pd.Series) -> pd.Series:
    import pandas as pd

    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")

    def one(value: Any) -> Any:
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            return pd.NA
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        return _TRUE_FALSE.get(str(value).strip().lower(), pd.NA)

    return values.map(one).astype("boolean")


_PARSERS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "number": _numbers,
    "calendar_date": _dates,
    "checkbox": _checkboxes,
}


def _check_one_kind(
    values: pd.Series, dataset: DatasetSpec, column: str, first_row: int, locate: Locate
) -> None:
    """A column of Python objects must hold one kind of value (Parquet stages one type)."""
    import pandas as pd

    if pd.api.types.infer_dtype(values, skipna=True) not in _MIXED_KINDS:
        return
    kinds = values.dropna().map(lambda v: _KIND_WORDS.get(type(v), type(v).__name__))
    usual = kinds.value_counts().index[0]
    odd = kinds[kinds != usual]
    if odd.empty:  # one kind of object throughout (e.g. GeoJSON mappings)
        return
    position = int(values.index.get_loc(odd.index[0]))
    value, row = values.iloc[position], first_row + position
    public = values_are_public(dataset, column)
    shown = f" ({value!r})" if public else ""
    raise SourceValueError(
        f"dataset {dataset.slug!r}: column {column!r} holds {usual}, but row {row} {locate(row)} "
        f"holds {odd.iloc[0]}{shown}. Correct the value in the source, or convert the column "
        "in the source (e.g. CAST in its query).",
        dataset=dataset.slug,
        column=column,
        row=row,
        value=repr(value) if public else None,
    )


def _error(
    dataset: DatasetSpec, column: str, row: int, value: Any, kind: str, where: str
) -> SourceValueError:
    public = values_are_public(dataset, column)
    shown = f"{str(value)!r}" if public else "a value (not shown: the source is not public)"
    return SourceValueError(
        f"dataset {dataset.slug!r}: column {column!r} is declared {kind!r}, but row {row} "
        f"{where} holds {shown}, which is not {_TYPE_WORDS[kind]}. Correct the value in the "
        f"source, or declare the column with the type its values have.",
        dataset=dataset.slug,
        column=column,
        row=row,
        value=str(value) if public else None,
    )
