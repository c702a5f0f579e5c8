"""The publishable table's shape: the spec's columns, in the spec's order, in the portal's types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctdata.errors import SourceError
from ctdata.sources.values import typed

if TYPE_CHECKING:
    import pandas as pd

    from ctdata.specs.models import DatasetSpec


def conform(frame: pd.DataFrame, dataset: DatasetSpec) -> pd.DataFrame:
    """The spec's columns in the spec's order, typed for the portal. A missing column is an
    error naming it rather than a silently empty column on the portal; a value that is not its
    column's type is an error naming the column, the row and (for a public table) the value."""
    import pandas as pd

    missing = [c.field for c in dataset.columns if c.field not in frame.columns]
    if missing:
        raise SourceError(
            f"dataset {dataset.slug!r}: column(s) {', '.join(missing)} named in 'columns' are not "
            f"produced by the source and transforms (available: {', '.join(map(str, frame.columns))})"
        )
    frame = frame.reset_index(drop=True)  # rows counted from 1 in the table's own order
    return pd.DataFrame(
        {c.field: typed(frame[c.field], c.type, dataset, c.field) for c in dataset.columns}
    )
