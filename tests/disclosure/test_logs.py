"""The disclosure steps tell their story in the log (Airflow's task log) in counts: records
aggregated, cells suppressed (primary, complementary), the audit's verdict; never a cell's
value or its interval."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ctdata.disclosure import AggregationSpec, SuppressionSpec, aggregate, audit_published, suppress
from tests.disclosure.support import build_table

SPEC = SuppressionSpec(dimensions=["r", "c"], counts=["n"])


def test_suppression_logs_counts_of_primary_and_complementary_cells(caplog) -> None:
    caplog.set_level(logging.INFO, logger="ctdata.disclosure")
    table = build_table(np.array([[2, 9, 50], [30, 8, 60], [40, 70, 80]]), ["r", "c"])
    result = suppress(table, SPEC)
    messages = [r.getMessage() for r in caplog.records]
    assert (result.primary, result.complementary) == (1, 3)
    assert any(
        m.startswith(
            "Column 'n': 1 primary cells (counts 1 to 5) and 3 complementary cells "
            "suppressed of 16 (protection=exact"
        )
        for m in messages
    )
    assert (
        "Disclosure audit passed: 4 suppressed cells, 0 failing; protection=exact, threshold=5"
        in messages
    )


def test_a_failed_audit_logs_how_many_cells_fail_not_which_nor_their_values(caplog) -> None:
    caplog.set_level(logging.INFO, logger="ctdata.disclosure")
    table = build_table(np.array([[3, 30], [40, 50]]), ["r", "c"])
    table["n"] = pd.array(table["n"], dtype="Int64")
    table.loc[(table.r == "r0") & (table.c == "c0"), "n"] = pd.NA  # 3 = 33 - 30
    report = audit_published(table, SPEC)
    assert not report.passed
    (record,) = [r for r in caplog.records if r.name == "ctdata.disclosure.audit"]
    assert record.levelname == "WARNING"
    assert record.getMessage() == (
        "Disclosure audit FAILED: 1 suppressed cells, 1 failing (1 exact); "
        "protection=exact, threshold=5"
    )
    assert "r0" in report.summary() and "r0" not in record.getMessage()


def test_aggregation_logs_records_and_cells(caplog) -> None:
    caplog.set_level(logging.INFO, logger="ctdata.disclosure")
    spec = AggregationSpec.model_validate(
        {
            "dimensions": [
                {"column": "sex", "values": ["F", "M"]},
                {"column": "yr", "range": {"start": 1, "stop": 2}},
            ]
        }
    )
    aggregate(pd.DataFrame({"sex": ["F", "M", "M"], "yr": [1, 2, 2]}), spec)
    assert (
        "Aggregated 3 records into 9 cells over sex x yr (every category and margin)"
        in caplog.messages
    )
