"""Data validation with Great Expectations 1.x: suites as JSON in expectations/.

Importing this package imports GX and registers the ctdata custom expectations
(`expect_column_values_to_not_be_small_counts`, `expect_table_disclosure_audit_to_pass`,
`expect_table_group_sizes_to_be_at_least`),
so the DAG file must import it only inside tasks, never at parse time.
"""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from ctdata.validation.disclosure_audit import ExpectTableDisclosureAuditToPass  # noqa: E402
from ctdata.validation.group_sizes import ExpectTableGroupSizesToBeAtLeast  # noqa: E402
from ctdata.validation.results import ExpectationOutcome, ValidationSummary  # noqa: E402
from ctdata.validation.runner import run_suites  # noqa: E402
from ctdata.validation.small_counts import ExpectColumnValuesToNotBeSmallCounts  # noqa: E402
from ctdata.validation.suites import load_suite  # noqa: E402

__all__ = [
    "ExpectColumnValuesToNotBeSmallCounts",
    "ExpectTableDisclosureAuditToPass",
    "ExpectTableGroupSizesToBeAtLeast",
    "ExpectationOutcome",
    "ValidationSummary",
    "load_suite",
    "run_suites",
]
