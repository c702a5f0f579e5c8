"""Fail-closed disclosure audit of the published table, as a GX table expectation.

The metric runs `ctdata.disclosure.audit_published` (linear programming over every additive
relation of the table) and the expectation passes only when no suppressed cell can be
recovered exactly. Any error while auditing (bad spec, margins that do not add up) fails it.
The result holds counts only: a failing cell's interval is its value when it is exact, so
which cells fail is for `ctdata audit`, run by someone who holds the table.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
from great_expectations.compatibility import pydantic
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider

from ctdata.disclosure.audit import FAILING

METRIC_NAME = "table.disclosure_audit"
PARAMETER_HINT = (
    'give it in the suite as the suite parameter {"$PARAMETER": "suppression_spec"} and run '
    "run_suites(..., parameters={'suppression_spec': spec})"
)


def run_audit(table: pd.DataFrame, suppression_spec: dict[str, Any] | None) -> dict[str, Any]:
    """Audit `table` under the spec; return a JSON-safe verdict in counts (never raises)."""
    if not suppression_spec:
        return _error_verdict(f"no suppression_spec: {PARAMETER_HINT}")
    try:
        from ctdata.disclosure import audit_published
        from ctdata.disclosure.spec import SuppressionSpec

        spec = SuppressionSpec.model_validate(suppression_spec)
        report = audit_published(table, spec)
    except Exception as exc:  # fail closed: an audit that cannot run is a failed audit
        return _error_verdict(f"{type(exc).__name__}: {exc}")
    failing = {status: n for status, n in report.status_counts().items() if status in FAILING}
    return {
        "passed": bool(report.passed),
        "cells_audited": len(report.cells),
        "failures": len(report.failures),
        "failing_by_status": dict(sorted(failing.items())),
        "summary": report.headline(),
        "error": None,
    }


def _error_verdict(message: str) -> dict[str, Any]:
    return {
        "passed": False,
        "cells_audited": 0,
        "failures": 0,
        "failing_by_status": {},
        "summary": f"disclosure audit could not run: {message}",
        "error": message,
    }


class TableDisclosureAudit(TableMetricProvider):
    """The audit verdict of the whole batch as a dict (see `run_audit`)."""

    metric_name = METRIC_NAME
    value_keys = ("suppression_spec",)

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
        return run_audit(df, metric_value_kwargs.get("suppression_spec"))


class ExpectTableDisclosureAuditToPass(BatchExpectation):
    """Expect no suppressed cell of the published table to be exactly recoverable.

    `suppression_spec` is a dict in the shape of `ctdata.disclosure.spec.SuppressionSpec`,
    usually the suite parameter `{"$PARAMETER": "suppression_spec"}`, which the pipeline fills
    from the dataset's spec.
    """

    suppression_spec: dict[str, Any] | None = pydantic.Field(default=None)

    metric_dependencies: ClassVar[tuple[str, ...]] = (METRIC_NAME,)
    success_keys: ClassVar[tuple[str, ...]] = ("suppression_spec",)
    args_keys: ClassVar[tuple[str, ...]] = ("suppression_spec",)

    library_metadata: ClassVar[dict[str, Any]] = {
        "maturity": "production",
        "tags": ["ctdata", "privacy", "disclosure control", "linear programming"],
        "contributors": ["ctdata"],
    }

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        verdict = metrics.get(METRIC_NAME) or _error_verdict("the audit metric was not computed")
        return {
            "success": bool(verdict["passed"]),
            "result": {
                "observed_value": {
                    "cells_audited": verdict["cells_audited"],
                    "failures": verdict["failures"],
                },
                "details": {
                    "failing_by_status": verdict["failing_by_status"],
                    "summary": verdict["summary"],
                    "error": verdict["error"],
                },
            },
        }
