"""Typed specs for aggregation and suppression; a bad spec fails with the file, field and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ctdata.disclosure.reference import read_reference, require_columns
from ctdata.errors import DisclosureError
from ctdata.yaml_models import load_yaml_model


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RateSpec(_Model):
    """A rate published as numerator / denominator * per, suppressed by the state's rules."""

    column: str
    numerator: str
    denominator: str
    min_numerator: int = 6
    min_denominator: int = 20
    per: int = Field(default=1, gt=0)


class SuppressionSpec(_Model):
    """What to protect in a table that already holds every cell and margin row."""

    dimensions: list[str] = Field(min_length=1, max_length=4)
    counts: list[str] = Field(min_length=1)
    threshold: int = Field(default=5, ge=1)
    total_label: str = "Total"
    hierarchy: dict[str, dict[str, str]] | None = None
    protection: Literal["exact", "interval"] = "exact"
    rates: list[RateSpec] = Field(default_factory=list)
    seed: int = 0

    @model_validator(mode="after")
    def _check_names(self) -> SuppressionSpec:
        clash = set(self.dimensions) & set(self.counts)
        if clash:
            raise ValueError(f"columns {sorted(clash)} are both dimensions and counts")
        for dim in self.hierarchy or {}:
            if dim not in self.dimensions:
                raise ValueError(f"hierarchy names {dim!r}, which is not one of the dimensions")
        for rate in self.rates:
            if rate.numerator not in self.counts:
                raise ValueError(
                    f"rate {rate.column!r}: numerator {rate.numerator!r} must be a count column"
                )
        return self

    @classmethod
    def from_yaml(cls, path: str | Path) -> SuppressionSpec:
        return _load_yaml(cls, path)


class RangeSpec(_Model):
    start: int
    stop: int  # inclusive, as people write year ranges


class ReferenceSpec(_Model):
    path: str
    column: str


class ParentMapSpec(_Model):
    path: str
    child: str
    parent: str


class DimensionSpec(_Model):
    """One breakdown of the records and its full domain (every category appears, rule 5)."""

    column: str
    source: str | None = None
    values: list[str] | None = None
    range: RangeSpec | None = None
    reference: ReferenceSpec | None = None
    parent_map: ParentMapSpec | None = None
    missing_label: str | None = None

    @model_validator(mode="after")
    def _one_domain(self) -> DimensionSpec:
        given = [n for n in ("values", "range", "reference") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                f"dimension {self.column!r}: give exactly one of values, range, reference "
                f"(got {given or 'none'})"
            )
        return self

    @property
    def input_column(self) -> str:
        return self.source or self.column

    def domain(self) -> list[str]:
        """Every category, in a stable order, including the missing label."""
        if self.values is not None:
            values = [str(v) for v in self.values]
        elif self.range is not None:
            values = [str(v) for v in range(self.range.start, self.range.stop + 1)]
        else:
            ref = self.reference
            assert ref is not None
            table = read_reference(ref.path)
            require_columns(table, [ref.column], f"dimension {self.column!r}: reference {ref.path}")
            values = list(dict.fromkeys(table[ref.column].str.strip()))
        if self.missing_label is not None and self.missing_label not in values:
            values.append(self.missing_label)
        return values

    def hierarchy(self, total_label: str) -> dict[str, str]:
        """child -> parent over leaves and inner levels; the top parent is the total label."""
        pm = self.parent_map
        if pm is None:
            return {}
        table = read_reference(pm.path)
        require_columns(
            table, [pm.child, pm.parent], f"dimension {self.column!r}: parent_map {pm.path}"
        )
        parent_of = dict(
            zip(table[pm.child].str.strip(), table[pm.parent].str.strip(), strict=True)
        )
        domain = self.domain()
        if set(parent_of.values()) & set(domain):  # e.g. the town of Tolland in Tolland County
            suffix = pm.parent.replace("_", " ").title()
            parent_of = {c: f"{p} {suffix}" for c, p in parent_of.items()}
        mapping = {leaf: parent_of.get(leaf, total_label) for leaf in domain}
        for parent in dict.fromkeys(mapping.values()):  # insertion order: no hash-seed dependence
            if parent != total_label:
                mapping[parent] = total_label
        return mapping


class DenominatorSpec(_Model):
    """A reference table of denominators (e.g. population) keyed by dimension columns."""

    path: str
    keys: list[str] = Field(min_length=1)
    column: str


class AggregationSpec(_Model):
    """Record-level rows to a suppressed-ready cube with margins, hierarchies and rates."""

    dimensions: list[DimensionSpec] = Field(min_length=1, max_length=4)
    count_column: str = "count"
    total_label: str = "Total"
    threshold: int = Field(default=5, ge=1)
    protection: Literal["exact", "interval"] = "exact"
    seed: int = 0
    rates: list[RateSpec] = Field(default_factory=list)
    denominators: DenominatorSpec | None = None

    def to_suppression_spec(self) -> SuppressionSpec:
        hierarchy = {
            d.column: d.hierarchy(self.total_label) for d in self.dimensions if d.parent_map
        }
        return SuppressionSpec(
            dimensions=[d.column for d in self.dimensions],
            counts=[self.count_column],
            threshold=self.threshold,
            total_label=self.total_label,
            hierarchy=hierarchy or None,
            protection=self.protection,
            rates=self.rates,
            seed=self.seed,
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> AggregationSpec:
        return _load_yaml(cls, path)


def _load_yaml(model: type[Any], path: str | Path) -> Any:
    return load_yaml_model(path, model, error=DisclosureError, what="suppression spec")
