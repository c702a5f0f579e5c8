"""The joint disclosure audit of the table's population, as a GX expectation of the suite.

The audit covers what the table will be read with: its population's other tables of this run
and every release recorded before (ctdata.disclosure.assess, the attacker model of the
disclosure README). It is computed by the validation step, which holds the run's staged
releases and the state store (cached per distinct set of releases: the protection step and the
publish gate audit the same sets), and reaches the suite as the parameter
`{"$PARAMETER": "population_audit"}`: the verdict in counts; which groups are disclosed is for
`ctdata audit --agency`, run by someone who holds the tables (as for the table's own audit). No verdict (the step could not audit) fails, as an audit that cannot run must.
"""

from __future__ import annotations

from typing import Any, ClassVar

from great_expectations.compatibility import pydantic
from great_expectations.expectations.expectation import BatchExpectation

PARAMETER_HINT = (
    'give it in the suite as {"$PARAMETER": "population_audit"}; the pipeline\'s validation '
    "step fills it for every dataset it protected"
)


class ExpectPopulationDisclosureAuditToPass(BatchExpectation):
    """Expect the attacker model to find nothing in the table's population over all releases.

    `population_audit` is a dict: `passed`, `headline` (counts), `disclosed` (how many
    groups), `releases` (how many were audited together).
    """

    population_audit: dict[str, Any] | None = pydantic.Field(default=None)

    metric_dependencies: ClassVar[tuple[str, ...]] = ("table.row_count",)
    success_keys: ClassVar[tuple[str, ...]] = ("population_audit",)
    args_keys: ClassVar[tuple[str, ...]] = ("population_audit",)

    library_metadata: ClassVar[dict[str, Any]] = {
        "maturity": "production",
        "tags": ["ctdata", "privacy", "disclosure control", "linked tables", "releases"],
        "contributors": ["ctdata"],
    }

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        verdict = self.population_audit or {}
        passed = bool(verdict.get("passed"))
        summary = verdict.get("headline") or f"joint disclosure audit did not run: {PARAMETER_HINT}"
        return {
            "success": passed,
            "result": {
                "observed_value": {
                    "releases_audited": int(verdict.get("releases", 0)),
                    "disclosed": int(verdict.get("disclosed", 0)),
                },
                "details": {"summary": summary},  # which groups: `ctdata audit --agency`
            },
        }
