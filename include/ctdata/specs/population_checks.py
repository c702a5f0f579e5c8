"""`ctdata lint`'s checks of an agency's populations (datasets protected together): what the
joint protection needs to link the tables, found before any run.

A population's tables count the same people, so a dimension they share must have the same
categories in each (else their totals are not the same groups); a record-level member needs a
generalization rule, whose k is above every member's threshold (else records of groups the
count tables suppress would be shown).
"""

from __future__ import annotations

from ctdata.specs.models import AgencySpec, DatasetSpec, SmallGroupTransform


def population_problems(agency: AgencySpec) -> list[tuple[str, str, str]]:
    """(dataset slug, field, what to fix) for each problem of the agency's populations."""
    found: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for dataset in agency.datasets:
        key = agency.population_key(dataset)
        if key in seen:
            continue
        seen.add(key)
        members = agency.population_members(dataset)
        if len(members) > 1:
            found += _shared_domains(members)
        found += _record_rules(members)
    return found


def _shared_domains(members: list[DatasetSpec]) -> list[tuple[str, str, str]]:
    found = []
    first: dict[str, tuple[str, list[str]]] = {}
    for dataset in members:
        if dataset.aggregation is None:
            continue
        for index, dim in enumerate(dataset.aggregation.dimensions):
            domain = dim.domain()
            if dim.column not in first:
                first[dim.column] = (dataset.slug, domain)
            elif set(first[dim.column][1]) != set(domain):
                other, theirs = first[dim.column]
                extra = sorted(set(domain) ^ set(theirs))[:5]
                found.append((
                    dataset.slug,
                    f"aggregation.dimensions[{index}]",
                    f"{dim.column!r} has other categories than in {other!r} (differing: "
                    f"{', '.join(extra)}); a population's tables must break their shared "
                    "dimensions down the same way, or belong to different populations",
                ))  # fmt: skip
    return found


def _record_rules(members: list[DatasetSpec]) -> list[tuple[str, str, str]]:
    thresholds = [d.aggregation.threshold for d in members if d.aggregation is not None]
    found = []
    for dataset in members:
        if dataset.aggregation is not None:
            continue
        rules = [t for t in dataset.transforms if isinstance(t, SmallGroupTransform)]
        if not rules and len(members) > 1:
            found.append((dataset.slug, "transforms", (
                "a record-level dataset of a population needs a suppress_small_groups "
                "transform (its quasi-identifiers, the columns to generalize, k)"
            )))  # fmt: skip
        for rule in rules:
            if thresholds and rule.k <= max(thresholds):
                found.append((dataset.slug, "transforms", (
                    f"suppress_small_groups.k is {rule.k}, not above the population's "
                    f"threshold {max(thresholds)}: groups of {rule.k} to {max(thresholds)} "
                    f"would be shown; set k to at least {max(thresholds) + 1}"
                )))  # fmt: skip
    return found
