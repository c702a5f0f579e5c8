"""The steps of an agency's run and what each takes from which: the one description of the
sequence, which the DAG factory turns into tasks and `ctdata plan` runs in a process.

A `Step` names its function and declares its inputs as other steps (by object, never by a task
id in a string), so a renamed or removed step breaks where the flow is built, at DAG parse, not
when a task runs. An input may come from another dataset's steps (a step over several
datasets of the agency, e.g. protecting a population jointly, names each member's step).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ctdata.pipeline import preflight, retire, review, steps

if TYPE_CHECKING:
    from ctdata.pipeline.run import AgencyRun, DatasetRun
    from ctdata.specs import AgencySpec, DatasetSpec

Kind = Literal["task", "review", "teardown"]
_signature = functools.cache(inspect.signature)  # DAG files build thousands of steps


@dataclass(frozen=True, eq=False)
class Step:
    """One step: `function(run, **inputs)`, run for the dataset `slug` (None: for the agency).

    `inputs` maps a parameter of the function to the step whose result it takes (or to a
    mapping of steps, passed on as a mapping of their results); `after` lists steps it waits
    for without taking their results. `kind` says how a front door runs it: a plain task, a
    reviewer's decision, or a teardown that runs whatever happened before it."""

    function: Callable[..., Any]
    slug: str | None
    inputs: Mapping[str, Step | Mapping[str, Step]] = field(default_factory=dict)
    after: tuple[Step, ...] = ()
    kind: Kind = "task"
    writes_portal: bool = False  # bounded, across agencies, by the portal's pool
    publishes: bool = False  # updates the dataset's rows (the DAG's asset event)
    records: bool = True  # its outcome goes to the monitoring ledger
    group: str | None = None  # the task group of a step over several datasets
    despite_skips: bool = False  # runs when some inputs were skipped (a dataset not due)

    def __post_init__(self) -> None:
        """Fail where the flow is built when the function cannot take the declared inputs."""
        try:
            _signature(self.function).bind(None, **dict(self.inputs))
        except TypeError as exc:
            raise TypeError(f"step {self.name}: inputs {sorted(self.inputs)}: {exc}") from None

    def __repr__(self) -> str:
        return f"Step({self.name}, {self.slug})"

    @property
    def name(self) -> str:
        return self.function.__name__

    @property
    def upstream(self) -> list[Step]:
        """Every step this one waits for: its inputs' steps, then `after`."""
        found: list[Step] = []
        for source in self.inputs.values():
            found += list(source.values()) if isinstance(source, Mapping) else [source]
        return [*found, *(s for s in self.after if s not in found)]


@dataclass(frozen=True)
class Publishable:
    """The steps from the source to the checked publishable table (after `gate`, if any)."""

    extracted: Step
    checked_source: Step
    prepared: Step  # the publishable table: aggregated and suppressed, or record level
    checked: Step
    gate: tuple[Step, ...] = ()  # e.g. is_due, for a dataset on a slower schedule

    @property
    def steps(self) -> list[Step]:
        return [*self.gate, self.extracted, self.checked_source, self.prepared, self.checked]


def source_to_publishable(
    dataset: DatasetSpec, gate: tuple[Step, ...] = (), after: tuple[Step, ...] = ()
) -> Publishable:
    """Extract (once the steps of `gate`, else of `after`, are done), check the source, make the
    publishable table (aggregated and suppressed, or record level, protected with the dataset's
    own earlier releases) and check it: the DAG's first tasks, and what `ctdata plan` runs."""
    extracted, checked_source = _source_steps(dataset, gate, after)
    return _publishable(dataset, extracted, checked_source, None, gate)


def _source_steps(
    dataset: DatasetSpec, gate: tuple[Step, ...], after: tuple[Step, ...] = ()
) -> tuple[Step, Step]:
    extracted = Step(steps.extract, dataset.slug, after=gate or after)
    return extracted, Step(steps.validate_source, dataset.slug, {"extracted": extracted})


def _publishable(
    dataset: DatasetSpec,
    extracted: Step,
    checked_source: Step,
    protected: Step | None,
    gate: tuple[Step, ...],
) -> Publishable:
    """The publishable table from the extract: protected alone, or (`protected`) taken from
    the protection of the dataset's population."""
    slug = dataset.slug
    make = steps.aggregate_and_suppress if dataset.aggregation else steps.prepare_records
    inputs: dict[str, Step] = {"extracted": extracted}
    if protected is not None:
        inputs["protected"] = protected
    prepared = Step(make, slug, inputs, after=(checked_source,))
    checked = Step(steps.validate_publishable, slug, {"prepared": prepared})
    return Publishable(extracted, checked_source, prepared, checked, gate)


def agency_publishables(
    agency: AgencySpec,
    paced_by: str | None,
    *,
    gated: bool = True,
    after: tuple[Step, ...] = (),
) -> tuple[dict[str, Publishable], list[Step]]:
    """Source to publishable for every dataset the agency refreshes, and the steps that protect
    each population of several datasets together (between their sources and their tables). A
    dataset on a slower schedule than `paced_by` first asks whether it is due (`gated`)."""
    parts: dict[str, Publishable] = {}
    joint: list[Step] = []
    refreshed = [d for d in agency.datasets if d.retire is None]
    for key in dict.fromkeys(agency.population_key(d) for d in refreshed):
        members = [d for d in refreshed if agency.population_key(d) == key]
        gates = {d.slug: _gate(d, paced_by, after) if gated else () for d in members}
        sources = {d.slug: _source_steps(d, gates[d.slug], after) for d in members}
        protected = None
        if len(members) > 1:
            protected = Step(
                steps.protect_population, None,
                {"extracted": {slug: found[0] for slug, found in sources.items()}},
                after=tuple(found[1] for found in sources.values()),
                group=key.split(".", 1)[1], despite_skips=True,
            )  # fmt: skip
            joint.append(protected)
        for d in members:
            parts[d.slug] = _publishable(d, *sources[d.slug], protected, gates[d.slug])
    return parts, joint


def _gate(
    dataset: DatasetSpec, paced_by: str | None, after: tuple[Step, ...] = ()
) -> tuple[Step, ...]:
    slower = dataset.effective_schedule != paced_by
    return (Step(steps.is_due, dataset.slug, after=after),) if slower else ()


def make_publishable(run: DatasetRun) -> dict[str, Any]:
    """Source to publishable in this process, as the DAG's first tasks do it (with the other
    datasets of its population, protected together); the summary of the publishable table
    (its staged path among it). Raises as the failing step does."""
    parts, joint = agency_publishables(run.agency, None, gated=False)
    key = run.agency.population_key(run.dataset)
    members = [s for s in parts if run.agency.population_key(run.agency.dataset(s)) == key]
    flow = [step for slug in members for step in parts[slug].steps]
    flow += [j for j in joint if j.group == key.split(".", 1)[1]]
    return run_steps(run, flow)[parts[run.slug].prepared]


def publishable_steps(
    dataset: DatasetSpec, paced_by: str | None, after: tuple[Step, ...] = ()
) -> Publishable:
    """Source to publishable in an agency DAG paced by the cron `paced_by`, once the steps of
    `after` are done: a dataset on a slower schedule first asks whether it is due."""
    return source_to_publishable(dataset, _gate(dataset, paced_by, after), after)


def portal_steps(
    dataset: DatasetSpec, publishable: Publishable, publish_after: tuple[Step, ...] = ()
) -> list[Step]:
    """From the checked publishable table to the portal: onboarding, OPM's review, the rows
    (once the steps of `publish_after` are done too), the metadata, and the teardown that
    closes the run."""
    slug, prepared, checked = dataset.slug, publishable.prepared, publishable.checked
    onboarded = Step(steps.onboard, slug, after=(checked,), writes_portal=True)
    reviewed = Step(
        review.review, slug, {"prepared": prepared, "validation": checked},
        after=(onboarded,), kind="review",
    )  # fmt: skip
    published = Step(
        steps.publish, slug, {"prepared": prepared}, after=(reviewed, *publish_after),
        writes_portal=True, publishes=True,
    )  # fmt: skip
    synced = Step(steps.sync_metadata, slug, {"published": published}, writes_portal=True)
    finished = Step(
        steps.finish_run, slug, {"published": published}, after=(synced,),
        kind="teardown", records=False,  # it closes the run's record itself
    )  # fmt: skip
    return [onboarded, reviewed, published, synced, finished]


def agency_flow(agency: AgencySpec, paced_by: str | None) -> list[Step]:
    """Every step of one run of the agency's DAG: the preflight (what the whole agency needs,
    before any other step), the staging sweep, then each dataset's (a retiring dataset is no
    longer refreshed: its one step carries the retirement process on, each day), then the
    protection of each population of several datasets."""
    checked = Step(preflight.preflight, None, records=False)
    flow = [checked, Step(steps.sweep_staging, None, after=(checked,), records=False)]
    parts, joint = agency_publishables(agency, paced_by, after=(checked,))
    for dataset in agency.datasets:
        if dataset.retire is not None:
            flow.append(Step(retire.retire, dataset.slug, after=(checked,), writes_portal=True))
            continue
        part = parts[dataset.slug]
        flow += [*part.steps, *portal_steps(dataset, part)]
    return [*flow, *joint]


def in_order(flow: list[Step]) -> list[Step]:
    """The steps of `flow`, each after every step it waits for (otherwise in the order given),
    so a step may be added to a flow anywhere. Raises ValueError naming a step waited for
    that the flow lacks."""
    known, placed, ordered = set(flow), set(), []

    def place(step: Step) -> None:
        if step in placed:
            return
        for upstream in step.upstream:
            if upstream not in known:
                raise ValueError(f"{step!r} waits for {upstream!r}, which the flow lacks")
            place(upstream)
        placed.add(step)
        ordered.append(step)

    for step in flow:
        place(step)
    return ordered


def run_steps(run: DatasetRun | AgencyRun, flow: list[Step]) -> dict[Step, Any]:
    """Run plain steps one after another in this process, each given its inputs' results (the
    command line's way; Airflow runs each as a task). Returns each step's result."""
    results: dict[Step, Any] = {}
    for step in in_order(flow):
        inputs = {
            name: {k: results[s] for k, s in source.items()}
            if isinstance(source, Mapping)
            else results[source]
            for name, source in step.inputs.items()
        }
        results[step] = step.function(_run_for(run, step), **inputs)
    return results


def _run_for(run: DatasetRun | AgencyRun, step: Step) -> DatasetRun | AgencyRun:
    """The run a step is given: the agency's for a step over several datasets, else its
    dataset's (sharing the run's store and clients)."""
    if step.slug is None or getattr(run, "slug", None) == step.slug:
        return run
    return run.dataset_run(step.slug)
