"""De-identification of a run's tables: each dataset protected with everything its population
published before, and the datasets of one population (`population:` in the spec) together.

Aggregated datasets are counted into their full cube; record-level datasets keep their records,
generalized by their `suppress_small_groups` rule. The joint engine (ctdata.disclosure.joint)
decides what each shows; the publishable tables are staged for validation and publishing, and
each table's release (its cube with true values and what it shows) is staged beside it, to be
recorded in the state store's release history when the table is published (`record_release`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctdata.errors import SpecError
from ctdata.specs.models import AgencySpec, DatasetSpec, SmallGroupTransform
from ctdata.staging import Staging

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ctdata.disclosure.history import ReleaseHistory
    from ctdata.disclosure.members import Member
    from ctdata.disclosure.records import RecordsRule
    from ctdata.disclosure.release import Release
    from ctdata.pipeline.run import AgencyRun, DatasetRun
    from ctdata.staging import StagedTable

log = logging.getLogger(__name__)
RecordBatches = Callable[[], "Iterator[pd.DataFrame]"]  # records read again, batch by batch


@dataclass(frozen=True)
class TableKey:
    """How a dataset is named in the release history: stable across portal ids."""

    agency: str
    slug: str

    def __str__(self) -> str:
        return f"{self.agency}.{self.slug}"


def records_rule(dataset: DatasetSpec) -> RecordsRule | None:
    """The record-level table's generalization rule, if it has one."""
    from ctdata.disclosure.records import RecordsRule

    rules = [t for t in dataset.transforms if isinstance(t, SmallGroupTransform)]
    if not rules:
        return None
    if len(rules) > 1:
        raise SpecError(f"dataset {dataset.slug!r}: give one suppress_small_groups transform")
    rule = rules[0]
    return RecordsRule(tuple(rule.quasi_identifiers), tuple(rule.generalize), rule.k, rule.label)


def linked_domains(agency: AgencySpec, dataset: DatasetSpec) -> dict[str, list[str]]:
    """The categories the population's count tables give each dimension (the records' cube
    uses them, so its cells line up with theirs)."""
    out: dict[str, list[str]] = {}
    for member in agency.population_members(dataset):
        if member.aggregation is None:
            continue
        for dim in member.aggregation.dimensions:
            out.setdefault(dim.column, dim.domain())
    return out


@dataclass(frozen=True)
class Counted:
    """An aggregated dataset's new table as its cube, counted from the staged records batch by
    batch (`counted`), so the records are never held whole."""

    cube: pd.DataFrame


def counted(staging: Staging, dataset: DatasetSpec, path: str) -> Counted:
    from ctdata.disclosure.aggregation import aggregate_batches

    assert dataset.aggregation is not None
    return Counted(aggregate_batches(staging.iter_frames(path), dataset.aggregation))


@dataclass(frozen=True)
class StagedRecords:
    """A record-level dataset's staged records, read again batch by batch each time the
    protection needs them (its cube counts them, its generalization rewrites them)."""

    staging: Staging
    path: str

    def __call__(self) -> Iterator[pd.DataFrame]:
        return self.staging.iter_frames(self.path)


def source_table(staging: Staging, dataset: DatasetSpec, path: str) -> Counted | StagedRecords:
    """What the protection needs of a dataset's staged source, never held whole: an
    aggregated dataset's cube (counted batch by batch), a record-level dataset's records."""
    if dataset.aggregation is not None:
        return counted(staging, dataset, path)
    return StagedRecords(staging, path)


def member_for(
    agency: AgencySpec, dataset: DatasetSpec, frame: pd.DataFrame | Counted | StagedRecords
) -> Member | None:
    """The engine's view of one dataset's new table, or None for a record-level dataset with
    no generalization rule (published as it is, outside any population)."""
    from ctdata.disclosure import aggregate
    from ctdata.disclosure.members import AggregateMember, RecordsMember
    from ctdata.disclosure.records import RecordsCube

    key = str(TableKey(agency.code, dataset.slug))
    if dataset.aggregation is not None:
        cube = frame.cube if isinstance(frame, Counted) else aggregate(frame, dataset.aggregation)
        return AggregateMember(key, dataset.aggregation, cube)
    assert not isinstance(frame, Counted)
    rule = records_rule(dataset)
    if rule is None:
        return None
    return RecordsMember(key, RecordsCube(frame, rule, linked_domains(agency, dataset)))


def protect_run(
    agency: AgencySpec,
    frames: Mapping[str, pd.DataFrame | Counted | StagedRecords],
    run_id: str,
    history: ReleaseHistory,
) -> dict[str, dict[str, Any]]:
    """Protect the new tables of one population (`frames`: slug -> transformed source, or an
    aggregated dataset's cube counted from it) with
    its release history. Returns per slug the table to publish, its release (None for a
    record-level table without a generalization rule, published as it is) and figures."""
    from ctdata.disclosure.history import Verdict
    from ctdata.disclosure.joint import protect

    datasets = [agency.dataset(slug) for slug in frames]
    population = agency.population_key(datasets[0])
    members = {d.slug: member_for(agency, d, frames[d.slug]) for d in datasets}
    active = [m for m in members.values() if m is not None]
    out = {slug: {"table": frames[slug], "release": None, "stats": {}, "audit": None}
           for slug, m in members.items() if m is None}  # fmt: skip
    if not active:
        return out
    past = history.releases(population)
    seq = history.next_seq(population, run_id)
    seed = next((d.aggregation.seed for d in datasets if d.aggregation), 0)
    result = protect(active, past, snapshot=run_id, seq=seq, seed=seed)
    new = list(result.releases.values())
    history.remember([*_others(past, new), *new], Verdict(True, result.report.headline()))
    log.info(
        "Population %s: %s (%d earlier releases, %d rounds).",
        population, result.report.headline(), len(past), result.report.rounds,
    )  # fmt: skip
    for slug, member in members.items():
        if member is not None:
            out[slug] = {
                "table": _publishable(member, result.mask_of(member.table)),
                "release": result.releases[member.table],
                "stats": result.stats[member.table],
                "audit": result.report.headline(),
            }
    return out


def _publishable(member: Member, mask: np.ndarray) -> pd.DataFrame | RecordBatches:
    """A count table whole (it is small); a record-level table as a reader of its batches."""
    from ctdata.disclosure.members import RecordsMember

    if isinstance(member, RecordsMember):
        return lambda: member.publish_batches(mask)
    return member.publish(mask)


def protect_and_stage(
    run: AgencyRun, frames: Mapping[str, pd.DataFrame | Counted | StagedRecords]
) -> dict[str, dict[str, Any]]:
    """Protect a population's new tables and stage each publishable table and its release;
    the summaries the protection step returns (per slug, JSON-safe)."""
    agency = run.agency
    parts = protect_run(agency, frames, run.run_id, run.releases)
    out: dict[str, dict[str, Any]] = {}
    for slug, part in parts.items():
        dataset = agency.dataset(slug)
        path, rows = _stage_publishable(run, dataset, part["table"])
        summary: dict[str, Any] = {"path": path, "rows": rows, **part["stats"]}
        summary.setdefault("cells_suppressed", 0)
        if part["release"] is not None:
            summary["release"] = stage_release(
                run.staging, agency.code, slug, run.run_id, part["release"]
            )
            summary["population"] = agency.population_key(dataset)
            summary["joint_audit"] = part["audit"]
            summary["audit_passed"] = True
        out[slug] = summary
    return out


def _stage_publishable(
    run: AgencyRun, dataset: DatasetSpec, table: pd.DataFrame | RecordBatches
) -> tuple[str, int]:
    """Stage one publishable table conformed to the portal's columns: a count table whole
    (with its cell ids), record batches as they come (`table` a reader of them)."""
    from ctdata.lifecycle.publication import conform

    spec = dataset.aggregation
    if spec is None:
        staged = _stage_records(run, dataset, table)
        return staged.path, staged.rows
    if spec.cell_id_column:
        dims = [d.column for d in spec.dimensions]
        table[spec.cell_id_column] = table[dims].astype(str).agg("|".join, axis=1)
    table = conform(table, dataset)
    path = run.staging.path(run.agency.code, dataset.slug, run.run_id, "publishable")
    return run.staging.write_frame(table, path), len(table)


def _stage_records(
    run: AgencyRun, dataset: DatasetSpec, read: pd.DataFrame | RecordBatches
) -> StagedTable:
    """Records conformed and staged batch by batch, so no step holds the table."""
    from ctdata.lifecycle.publication import conform

    def conformed() -> Iterator[pd.DataFrame]:
        first = 1
        for frame in read() if callable(read) else (read,):
            yield conform(frame, dataset, first_row=first)
            first += len(frame)

    path = run.staging.path(run.agency.code, dataset.slug, run.run_id, "publishable")
    label = f"dataset {dataset.slug!r} (publishable table)"
    types = declared_types(dataset)
    return run.staging.write_batches(conformed(), path, label=label, types=types)


def stage_as_is(run: DatasetRun, extracted: dict[str, Any]) -> dict[str, Any]:
    """A record-level table outside any protection (no generalization rule, no population of
    several tables) is published as it is: its records conformed to the portal's columns and
    staged batch by batch, as the protection would stage them."""
    staged = _stage_records(run, run.dataset, StagedRecords(run.staging, extracted["path"]))
    return {"path": staged.path, "rows": staged.rows, "cells_suppressed": 0}


def streams_as_is(dataset: DatasetSpec) -> bool:
    """Whether `stage_as_is` makes the dataset's table: what `protect_run` leaves as it is (a
    record-level table without a generalization rule)."""
    return dataset.aggregation is None and records_rule(dataset) is None


def declared_types(dataset: DatasetSpec) -> dict[str, Any]:
    """The Arrow type a declared column is staged as when the first batch holds no value to
    infer it from (a source column the spec does not declare is then staged as text)."""
    import pyarrow as pa

    types = {"number": pa.float64(), "checkbox": pa.bool_(), "calendar_date": pa.timestamp("ns")}
    return {c.field: types.get(c.type, pa.string()) for c in dataset.columns}


def population_audit(run: DatasetRun, prepared: dict[str, Any]) -> dict[str, Any]:
    """The joint audit of what this run would add to the population: every recorded release
    and this run's staged releases of the population's tables (the suite parameter of
    `expect_population_disclosure_audit_to_pass`)."""
    if "release" not in prepared:  # a table the pipeline did not protect cannot pass
        return {"passed": False, "releases": 0, "disclosed": 0, "headline": (
            "no joint audit: the table was not made by the pipeline's protection step")}  # fmt: skip
    agency, staging = run.agency, run.staging
    new = []
    for member in agency.population_members(run.dataset):
        path = staging.path(agency.code, member.slug, run.run_id, "release")
        if path.exists():
            new.append(read_release(staging, str(path)))
    releases = [*_others(run.releases.releases(prepared["population"]), new), *new]
    verdict = run.releases.verdict(releases)
    # counts only: a failure message quotes the parameter, and which groups are disclosed is
    # for `ctdata audit --agency`, run by someone who holds the tables
    return {"passed": verdict.passed, "headline": verdict.headline,
            "disclosed": len(verdict.groups), "releases": len(releases)}  # fmt: skip


def _others(past: list[Release], new: list[Release]) -> list[Release]:
    """The recorded releases that are not this run's (a retry may have recorded some)."""
    mine = {(r.table, r.snapshot) for r in new}
    return [r for r in past if (r.table, r.snapshot) not in mine]


def stage_release(staging: Staging, agency: str, slug: str, run_id: str, release: Release) -> str:
    """Keep the release beside the publishable table until the publish step records it."""
    path = staging.path(agency, slug, run_id, "release")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(release.to_bytes())
    return str(path)


def read_release(staging: Staging, path: str) -> Release:
    from ctdata.disclosure.release import Release

    with staging.open_path(path).open("rb") as handle:
        return Release.from_bytes(handle.read())


def record_release(run: DatasetRun, prepared: dict[str, Any]) -> bool:
    """The gate before anything is sent: under the population's lock, audit the release with
    every release recorded before (the attacker model over all of them) and record it as
    pending (it may be public from now on); refuses (DisclosureError, nothing sent) when the
    audit finds a disclosure, e.g. because another run published a linked table since this one
    was protected. False when the table shows exactly what its last release showed."""
    from ctdata.errors import DisclosureError

    release = read_release(run.staging, prepared["release"])
    try:
        return run.releases.record(prepared["population"], release)
    except DisclosureError as exc:
        raise DisclosureError(
            f"dataset {run.slug!r}: {exc}; nothing was sent. If another run published a "
            "linked table since this one was protected, rerun the DAG"
        ) from exc


def release_published(run: DatasetRun, prepared: dict[str, Any]) -> None:
    """The release's rows are on the portal: its history record says so."""
    run.releases.mark_published(prepared["population"], str(TableKey(run.agency.code, run.slug)),
                                run.run_id)  # fmt: skip
