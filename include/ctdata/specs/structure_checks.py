"""What a valid spec can still get wrong that would only show at run time, checked before any
work (by `ctdata lint`, `ctdata doctor` and each run's preflight):

- it names a suite for each validation step, and every suite it names exists and loads
  (Great Expectations builds every expectation; an unknown type or bad argument is named
  with its file);
- an aggregation's outputs are declared as the published table needs them: its dimensions
  (as text: they hold the total label), its count (a number), the count's suppression flag
  (a checkbox, so a blank count reads as withheld, not missing), its rates and their flags,
  and the cell id; and no declared column is one the aggregation does not produce.

Each check yields (field path, message) pairs like `metadata_checks`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ctdata.errors import ValidationFailed
from ctdata.specs.metadata_checks import Found
from ctdata.specs.models import DatasetSpec

SUPPRESSED_SUFFIX = "_suppressed"  # the flag beside each suppressed value (disclosure's naming)


def structure_problems(
    dataset: DatasetSpec, expectations_dir: Path, *, load_suites: bool = True
) -> list[Found]:
    return [*suite_problems(dataset, expectations_dir, load=load_suites),
            *aggregation_problems(dataset)]  # fmt: skip


def suite_problems(dataset: DatasetSpec, expectations_dir: Path, *, load: bool) -> Iterator[Found]:
    """Each named suite exists (and with `load`, builds in Great Expectations)."""
    from ctdata.validation.suites import load_suite, read_suite_json, suite_path

    for stage in ("source", "publishable"):
        names = getattr(dataset.expectations, stage)
        if not names and dataset.retire is None:
            yield (
                f"expectations.{stage}",
                (
                    f"no suite named: the run's validate_{stage} step refuses to publish unchecked "
                    f"data; name at least one suite (a file in {expectations_dir})"
                ),
            )
        for index, name in enumerate(names):
            where = f"expectations.{stage}[{index}]"
            try:
                if load:
                    load_suite(name, expectations_dir)
                else:
                    read_suite_json(suite_path(name, expectations_dir), name)
            except ValidationFailed as exc:
                yield where, str(exc)


def aggregation_outputs(dataset: DatasetSpec) -> dict[str, str]:
    """The aggregated table's columns, each with the type its values need on the portal."""
    spec = dataset.aggregation
    if spec is None:
        return {}
    outputs = {d.column: "text" for d in spec.dimensions}
    outputs[spec.count_column] = "number"
    outputs[spec.count_column + SUPPRESSED_SUFFIX] = "checkbox"
    if spec.denominators is not None:
        outputs[spec.denominators.column] = "number"
    for rate in spec.rates:
        outputs[rate.column] = "number"
        outputs[rate.column + SUPPRESSED_SUFFIX] = "checkbox"
    if spec.cell_id_column:
        outputs[spec.cell_id_column] = "text"
    return outputs


def aggregation_problems(dataset: DatasetSpec) -> Iterator[Found]:
    spec = dataset.aggregation
    if spec is None:
        return
    outputs = aggregation_outputs(dataset)
    declared = {c.field: (i, c.type) for i, c in enumerate(dataset.columns)}
    needed = {d.column: "dimension" for d in spec.dimensions}
    needed[spec.count_column] = "count_column"
    for rate in spec.rates:
        needed[rate.column] = "rate"
    # The suppression flags may be left out: the table then shows withheld counts as blanks
    # only (removing a flag column is a change OPM reviews, as any removed column).
    for field, role in needed.items():
        if field not in declared:
            yield (
                "columns",
                (
                    f"the aggregation's {role} {field!r} is not declared: add "
                    f"{{name: ..., field: {field}, type: {outputs[field]}, description: ...}}"
                ),
            )
    if spec.cell_id_column and spec.cell_id_column not in declared:
        yield (
            "aggregation.cell_id_column",
            (
                f"the aggregation builds {spec.cell_id_column!r} (the row's key) but no column "
                f"declares it: declare it (type text) or set cell_id_column: null"
            ),
        )
    for field, (index, kind) in declared.items():
        if field not in outputs:
            produced = ", ".join(outputs)
            yield (
                f"columns[{index}].field",
                (
                    f"{field!r} is not produced by the aggregation (it produces {produced}): "
                    "remove the column or fix its field name"
                ),
            )
        elif kind != outputs[field]:
            why = " (dimensions hold the total label)" if outputs[field] == "text" else ""
            yield (
                f"columns[{index}].type",
                (
                    f"{field!r} holds the aggregation's {outputs[field]} values{why}: declare "
                    f"type {outputs[field]}, not {kind}"
                ),
            )
