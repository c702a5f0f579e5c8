"""Privacy gate for record-level tables: every combination of the quasi-identifiers (the
columns someone could know about a person, such as year, age group and sex) is shared by at
least `min_size` rows, so no row stands for a group of 1 to the threshold (k-anonymity).

Results hold counts only: the values of a small group describe real people."""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
from great_expectations.compatibility import pydantic
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider

METRIC_NAME = "table.small_groups"


def small_groups(table: pd.DataFrame, columns: list[str], min_size: int) -> dict[str, Any]:
    """How many groups of the columns' values have fewer than `min_size` rows (never raises)."""
    missing = [c for c in columns if c not in table.columns]
    if missing or not columns:
        reason = f"columns not in the table: {missing}" if missing else "no columns given"
        return {"groups": 0, "small": -1, "rows_in_small": 0, "error": reason}
    sizes = table.groupby(columns, dropna=False).size()
    small = sizes[sizes < min_size]
    return {
        "groups": int(len(sizes)),
        "small": int(len(small)),
        "rows_in_small": int(small.sum()),
        "error": None,
    }


class TableSmallGroups(TableMetricProvider):
    metric_name = METRIC_NAME
    value_keys = ("columns", "min_size")

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(
        cls,
        execution_engine: PandasExecutionEngine,
        metric_domain_kwargs: dict,
        metric_value_kwargs: dict,
        metrics: dict[str, Any],
        runtime_configuration: dict,
    ) -> dict[str, Any]:
        df, _, _ = execution_engine.get_compute_domain(
            domain_kwargs=metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
        )
        return small_groups(
            df, list(metric_value_kwargs["columns"] or []), int(metric_value_kwargs["min_size"])
        )


class ExpectTableGroupSizesToBeAtLeast(BatchExpectation):
    """Expect every combination of `columns` to be shared by at least `min_size` rows."""

    columns: list[str]
    min_size: int = pydantic.Field(default=6, ge=2)

    metric_dependencies: ClassVar[tuple[str, ...]] = (METRIC_NAME,)
    success_keys: ClassVar[tuple[str, ...]] = ("columns", "min_size")
    args_keys: ClassVar[tuple[str, ...]] = ("columns", "min_size")

    library_metadata: ClassVar[dict[str, Any]] = {
        "maturity": "production",
        "tags": ["ctdata", "privacy", "k-anonymity"],
        "contributors": ["ctdata"],
    }

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        verdict = metrics[METRIC_NAME]
        return {
            "success": verdict["error"] is None and verdict["small"] == 0,
            "result": {
                "observed_value": {
                    "groups": verdict["groups"],
                    "small_groups": verdict["small"],
                    "rows_in_small_groups": verdict["rows_in_small"],
                },
                "details": {"error": verdict["error"], "summary": _summary(verdict, self.min_size)},
            },
        }


def _summary(verdict: dict[str, Any], min_size: int) -> str:
    if verdict["error"]:
        return f"cannot check group sizes: {verdict['error']}"
    if not verdict["small"]:
        return f"all {verdict['groups']} groups have at least {min_size} rows"
    return (
        f"{verdict['small']} of {verdict['groups']} groups ({verdict['rows_in_small']} rows) have "
        f"fewer than {min_size} rows; generalize or remove them (transform suppress_small_groups)"
    )
