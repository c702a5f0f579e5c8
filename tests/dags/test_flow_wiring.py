"""Steps are wired by what they take, not by task ids in strings: a step that cannot take its
declared inputs breaks the DAG at parse; a step may take inputs from other datasets' groups
(a step over several datasets of the agency), and a task passes each step its inputs' results."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from ctdata.airflow import dag_factory
from ctdata.pipeline import flow, steps
from ctdata.pipeline.flow import Step
from ctdata.specs import AgencySpec, load_all


@pytest.fixture(scope="module")
def ocme() -> AgencySpec:
    [agency] = [a for a in load_all().agencies if a.code == "ocme"]
    return agency


def test_a_step_that_cannot_take_its_inputs_fails_where_the_flow_is_built() -> None:
    extract = Step(steps.extract, "towns")
    with pytest.raises(TypeError, match="step publish: inputs \\['staged'\\]"):
        Step(steps.publish, "towns", {"staged": extract})


def test_a_renamed_parameter_breaks_the_dag_at_parse(ocme, monkeypatch) -> None:
    def sync_metadata(run: Any, publication: dict | None = None) -> dict:  # was `published`
        raise AssertionError("never runs: the DAG is not built")

    monkeypatch.setattr(steps, "sync_metadata", sync_metadata)
    with pytest.raises(TypeError, match="step sync_metadata"):
        dag_factory.build_agency_dag(ocme)


def joint_protection(run: Any, members: dict[str, dict]) -> dict:
    """A step over several datasets: it sees each member's publishable table."""
    return {"agency": run.agency.code, "members": sorted(members), "rows": members}


MEMBERS = ("deaths_by_town", "deaths_by_age")


def _with_population_step(agency: AgencySpec, paced_by: str | None) -> list[Step]:
    """The agency's flow with one step over two datasets' publishable tables, which each
    member's publish waits for (listed last: the factory puts each step after its inputs)."""
    made = [Step(steps.sweep_staging, None, records=False)]
    parts = {d.slug: flow.publishable_steps(d, paced_by) for d in agency.datasets}
    joint = Step(joint_protection, None, {"members": {m: parts[m].prepared for m in MEMBERS}})
    for dataset in agency.datasets:
        waits = (joint,) if dataset.slug in MEMBERS else ()
        made += [
            *parts[dataset.slug].steps,
            *flow.portal_steps(dataset, parts[dataset.slug], waits),
        ]
    return [*made, joint]


def test_a_step_may_take_inputs_from_other_datasets_groups(ocme, monkeypatch) -> None:
    monkeypatch.setattr(dag_factory, "agency_flow", _with_population_step)
    dag = dag_factory.build_agency_dag(ocme)
    joint = dag.get_task("joint_protection")
    assert joint.inputs == {
        "members": {
            "deaths_by_town": "deaths_by_town.aggregate_and_suppress",
            "deaths_by_age": "deaths_by_age.aggregate_and_suppress",
        }
    }
    assert joint.upstream_task_ids == set(joint.inputs["members"].values())
    assert "joint_protection" in dag.get_task("deaths_by_age.publish").upstream_task_ids
    assert "joint_protection" not in dag.get_task("deaths_records.publish").upstream_task_ids

    results = {"deaths_by_town.aggregate_and_suppress": {"path": "t"},
               "deaths_by_age.aggregate_and_suppress": {"path": "a"}}  # fmt: skip
    ti = SimpleNamespace(xcom_pull=lambda task_ids: results[task_ids], try_number=1)
    context = {"ti": ti, "run_id": "manual__1", "dag": dag, "params": {}}
    assert joint.execute(context) == {
        "agency": "ocme",
        "members": ["deaths_by_age", "deaths_by_town"],
        "rows": {"deaths_by_town": {"path": "t"}, "deaths_by_age": {"path": "a"}},
    }
