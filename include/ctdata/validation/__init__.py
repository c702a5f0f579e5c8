"""Data validation with Great Expectations 1.x: suites as JSON in expectations/.

`run_suites` validates a frame against named suites, filling GX suite parameters
(`{"$PARAMETER": name}` in a suite) from the values it is given, and keeps each suite's
result and Data Docs page in a `ResultStore` (a local folder or object storage). Results keep
counts and percentages only, never a value from the data (see `redaction`).

Names load on first use (PEP 562): reading stored results (`load_validation`) does not import
GX; running suites does, and registers the ctdata custom expectations
(`expect_column_values_to_not_be_small_counts`, `expect_table_disclosure_audit_to_pass`,
`expect_table_group_sizes_to_be_at_least`, `expect_column_values_to_be_valid_geometry`). DAG files must not run suites at parse time.
"""

from __future__ import annotations

import os

from ctdata.lazy import lazy_exports

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # before anything imports GX

_EXPORTS = {
    "ExpectColumnValuesToNotBeSmallCounts": "ctdata.validation.small_counts",
    "ExpectColumnValuesToBeValidGeometry": "ctdata.validation.geometry",
    "ExpectTableDisclosureAuditToPass": "ctdata.validation.disclosure_audit",
    "ExpectTableGroupSizesToBeAtLeast": "ctdata.validation.group_sizes",
    "ExpectationOutcome": "ctdata.validation.results",
    "SuiteOutcome": "ctdata.validation.results",
    "ValidationSummary": "ctdata.validation.results",
    "ResultStore": "ctdata.validation.store",
    "RunStage": "ctdata.validation.store",
    "load_validation": "ctdata.validation.store",
    "load_suite": "ctdata.validation.suites",
    "run_suites": "ctdata.validation.runner",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
