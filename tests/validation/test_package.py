"""ctdata.validation imports GX only to run suites (reading kept results does not), registers
the custom expectations then, and keeps GX's analytics off."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, os, sys
import ctdata.validation
from ctdata.validation import load_validation, ValidationSummary
reading = "great_expectations" in sys.modules
from ctdata.validation.suites import register_custom_expectations
register_custom_expectations()
from great_expectations.expectations.registry import get_expectation_impl
print(json.dumps({
    "gx_to_read_results": reading,
    "analytics": os.environ.get("GX_ANALYTICS_ENABLED"),
    "small": get_expectation_impl("expect_column_values_to_not_be_small_counts").__name__,
    "audit": get_expectation_impl("expect_table_disclosure_audit_to_pass").__name__,
    "groups": get_expectation_impl("expect_table_group_sizes_to_be_at_least").__name__,
}))
"""


def test_running_registers_custom_expectations_with_analytics_off() -> None:
    env = {k: v for k, v in os.environ.items() if k != "GX_ANALYTICS_ENABLED"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=True
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "gx_to_read_results": False,
        "analytics": "false",
        "small": "ExpectColumnValuesToNotBeSmallCounts",
        "audit": "ExpectTableDisclosureAuditToPass",
        "groups": "ExpectTableGroupSizesToBeAtLeast",
    }


def test_core_modules_do_not_import_gx() -> None:
    code = (
        "import sys, ctdata, ctdata.settings, ctdata.errors, ctdata.cli; "
        "print('great_expectations' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
