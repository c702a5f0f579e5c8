"""The privacy gate: no published count may lie from 1 to the suppression threshold.

A column-map expectation, so GX reports how many cells and which values broke it. Nulls
(suppressed cells) and zeros pass: the state's rules never suppress zeros.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
from great_expectations.compatibility import pydantic
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

DEFAULT_THRESHOLD = 5


class ColumnValuesNotSmallCount(ColumnMapMetricProvider):
    """True where a value is safe to publish: null, zero, negative or above the threshold.

    Values that are not numbers count as unsafe (fail closed: "3" is a small count too).
    Anything in (0, threshold] is unsafe, so a stray 0.5 cannot slip through either.
    """

    condition_metric_name = "column_values.not_small_count"
    condition_value_keys = ("threshold",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, threshold: int = DEFAULT_THRESHOLD, **kwargs: Any):
        numbers = pd.to_numeric(column.astype("object"), errors="coerce").astype("float64")
        not_numeric = numbers.isna()
        small = (numbers > 0) & (numbers <= float(threshold))
        return ~(small | not_numeric)


class ExpectColumnValuesToNotBeSmallCounts(ColumnMapExpectation):
    """Expect no value of the column to be a count from 1 to `threshold` (default 5).

    Nulls and zeros pass. `mostly` must stay 1: a privacy gate cannot be partial.
    """

    threshold: int = pydantic.Field(default=DEFAULT_THRESHOLD, ge=0)

    map_metric: ClassVar[str] = "column_values.not_small_count"
    success_keys: ClassVar[tuple[str, ...]] = ("threshold", "mostly")
    args_keys: ClassVar[tuple[str, ...]] = ("column", "threshold")

    library_metadata: ClassVar[dict[str, Any]] = {
        "maturity": "production",
        "tags": ["ctdata", "privacy", "disclosure control"],
        "contributors": ["ctdata"],
    }

    @pydantic.validator("mostly")
    def _privacy_gate_is_not_partial(cls, value: float) -> float:
        if value != 1:
            raise ValueError(
                "the privacy gate must hold for every row: remove 'mostly' or set it to 1"
            )
        return value
