"""Disclosure control: aggregate record-level rows, suppress small cells, prove the table safe.

`suppress` applies the state's rules (primary and complementary suppression) over every
additive relation of the table and only returns a pattern whose LP audit passes;
`audit_published` re-checks a published table (nulls = suppressed) without the original.

Names load on first use (PEP 562): DAG files import the specs at parse time, which must not
pull in pandas and SciPy.
"""

from __future__ import annotations

from ctdata.lazy import lazy_exports

_EXPORTS = {
    "AggregationSpec": "ctdata.disclosure.spec",
    "DimensionSpec": "ctdata.disclosure.spec",
    "RateSpec": "ctdata.disclosure.spec",
    "SuppressionSpec": "ctdata.disclosure.spec",
    "aggregate": "ctdata.disclosure.aggregation",
    "AuditReport": "ctdata.disclosure.audit",
    "CellInterval": "ctdata.disclosure.audit",
    "audit_published": "ctdata.disclosure.audit",
    "SuppressionResult": "ctdata.disclosure.suppression",
    "suppress": "ctdata.disclosure.suppression",
    "validate_table": "ctdata.disclosure.validate",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
