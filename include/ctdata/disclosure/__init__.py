"""Disclosure control: aggregate record-level rows, suppress small cells, prove the table safe.

`suppress` applies the state's rules (primary and complementary suppression) over every
additive relation of the table and only returns a pattern whose LP audit passes;
`audit_published` re-checks a published table (nulls = suppressed) without the original.
"""

from __future__ import annotations

from ctdata.disclosure.aggregate import aggregate
from ctdata.disclosure.audit import AuditReport, CellInterval, audit_published
from ctdata.disclosure.spec import (
    AggregationSpec,
    DimensionSpec,
    RateSpec,
    SuppressionSpec,
)
from ctdata.disclosure.suppress import SuppressionResult, suppress
from ctdata.disclosure.validate import validate_table

__all__ = [
    "AggregationSpec",
    "AuditReport",
    "CellInterval",
    "DimensionSpec",
    "RateSpec",
    "SuppressionResult",
    "SuppressionSpec",
    "aggregate",
    "audit_published",
    "suppress",
    "validate_table",
]
