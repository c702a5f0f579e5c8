"""`ctdata lint`: every problem of the specs against the state's metadata guidelines, at once.

A spec file is validated by its model (schema errors: missing fields, values outside the
vocabularies, bad patterns, unknown fields with the closest allowed one) and checked against the
guidelines (`metadata_checks`) even when it does not validate, so one run lists everything to
fix; each dataset that validates is also checked for what would fail only at run time
(`structure_checks`: suites that do not exist or load, aggregation outputs not declared). Agency specs, the usage metrics config
and the registers config are linted alike: each publishes datasets on the portal.

The same checks run before publishing (`require_standard_metadata`), so a dataset whose
metadata falls short never reaches the portal.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from ctdata.errors import SpecError
from ctdata.specs import vocabulary
from ctdata.specs.metadata_checks import agency_problems, dataset_problems
from ctdata.specs.models import AgencySpec, DatasetSpec
from ctdata.yaml_models import error_reason

AGENCY_LEVEL = "(agency)"
CONFIG_LEVEL = "(config)"
VOCABULARY_VALUES = sorted(
    {
        value
        for name in ("Category", "GeographicUnit", "UpdateFrequency", "License", "DataType")
        for value in get_args(getattr(vocabulary, name))
    }
)
# A config whose top-level dataset entries publish to the portal: its model, by a key of its
# own (e.g. {"usage_dataset": MetricsConfig}); the front door that lints supplies them.
ConfigModels = Mapping[str, type[BaseModel]]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing to fix: where (file, dataset slug, field path) and what."""

    file: str
    dataset: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.dataset}: {self.field}: {self.message}"


@dataclass
class LintReport:
    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        files = len(self.files)
        if self.ok:
            return f"{files} spec file(s) checked: no problems."
        where = len({p.file for p in self.problems})
        return f"{len(self.problems)} problem(s) in {where} of {files} spec file(s)."


def lint_paths(
    paths: Iterable[str | Path],
    today: dt.date | None = None,
    configs: ConfigModels | None = None,
    *,
    load_suites: bool = True,
) -> LintReport:
    report = LintReport()
    for path in paths:
        report.files.append(str(path))
        report.problems += lint_file(Path(path), today, configs, load_suites=load_suites)
    return report


def lint_file(
    path: Path,
    today: dt.date | None = None,
    configs: ConfigModels | None = None,
    *,
    load_suites: bool = True,
) -> list[Problem]:
    """Every problem of one spec file: an agency spec, or a config of generated datasets
    (recognised by a key of `configs`)."""
    label = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return [Problem(label, "-", "-", f"cannot read the file ({exc.strerror})")]
    except yaml.YAMLError as exc:
        return [Problem(label, "-", "-", f"not valid YAML: {exc}")]
    if not isinstance(raw, dict):
        return [Problem(label, "-", "-", "must be a mapping of keys to values")]
    configs = configs or {}
    kind = next((k for k in configs if k in raw), None)
    if kind is None:
        return _lint_agency(label, path, raw, today, load_suites)
    return _lint_config(label, raw, configs[kind], today)


def _lint_agency(
    label: str, path: Path, raw: dict[str, Any], today: dt.date | None, load_suites: bool = True
) -> list[Problem]:
    datasets = _entries(raw.get("datasets"))
    found = _schema_problems(label, raw, AgencySpec, lambda loc: _agency_dataset(datasets, loc))
    if raw.get("code") and raw.get("code") != path.stem:
        found.append(
            Problem(
                label,
                AGENCY_LEVEL,
                "code",
                f"{raw['code']!r} must match the file name "
                f"({path.stem}); rename the file or change the code",
            )  # fmt: skip
        )
    found += [Problem(label, AGENCY_LEVEL, f, m) for f, m in agency_problems(raw)]
    for index, dataset in enumerate(datasets):
        slug = _slug(dataset, f"datasets[{index}]")
        found += [Problem(label, slug, f, m) for f, m in dataset_problems(dataset, today)]
        found += [Problem(label, slug, f, m) for f, m in _structure_problems(dataset, load_suites)]
    found += [Problem(label, s, f, m) for s, f, m in _populations(path)]
    return _unique(found)


def _structure_problems(raw: Mapping[str, Any], load_suites: bool) -> list[tuple[str, str]]:
    """Suites that do not exist or load, aggregation outputs not declared as needed: for a
    dataset whose entry validates (schema errors are reported on their own)."""
    from ctdata import settings
    from ctdata.specs.structure_checks import structure_problems

    try:
        dataset = DatasetSpec.model_validate(raw)
    except ValidationError:
        return []
    expectations = settings.current().expectations_dir
    return structure_problems(dataset, expectations, load_suites=load_suites)


def _populations(path: Path) -> list[tuple[str, str, str]]:
    """Population problems, once the spec itself is valid (its schema problems come first)."""
    from ctdata.errors import SpecError
    from ctdata.specs.loader import load_agency
    from ctdata.specs.population_checks import population_problems

    try:
        return population_problems(load_agency(path))
    except SpecError:
        return []


def _lint_config(
    label: str, raw: dict[str, Any], model: type[BaseModel], today: dt.date | None
) -> list[Problem]:
    """A config whose top-level entries with `slug` and `metadata` are published datasets."""
    datasets = {k: v for k, v in raw.items() if isinstance(v, Mapping) and "metadata" in v}
    found = _schema_problems(label, raw, model, lambda loc: _config_dataset(datasets, loc))
    for key, dataset in datasets.items():
        slug = _slug(dataset, key)
        found += [Problem(label, slug, f, m) for f, m in dataset_problems(dataset, today)]
    return _unique(found)


def _schema_problems(
    label: str, raw: dict[str, Any], model: type[BaseModel], locate: Any
) -> list[Problem]:
    try:
        model.model_validate(raw)
    except ValidationError as exc:
        return [
            Problem(label, *locate(tuple(error["loc"])), _schema_reason(error, model))
            for error in exc.errors(include_url=False)
        ]
    return []


def _schema_reason(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    """The pydantic reason in words, with the closest allowed value for a misspelt one."""
    reason = error_reason(dict(error), model)
    value = error.get("input")
    if error["type"] == "literal_error" and isinstance(value, str):
        close = difflib.get_close_matches(value, VOCABULARY_VALUES, n=1, cutoff=0.5)
        if close:
            reason = f"{value!r} is not in the vocabulary: did you mean {close[0]!r}?"
    return reason


def _agency_dataset(datasets: Sequence[Mapping[str, Any]], loc: tuple[Any, ...]) -> tuple[str, str]:
    """(dataset slug or "(agency)", field path within it) for an error location."""
    if len(loc) >= 2 and loc[0] == "datasets" and isinstance(loc[1], int):
        dataset = datasets[loc[1]] if loc[1] < len(datasets) else {}
        return _slug(dataset, f"datasets[{loc[1]}]"), _dotted(loc[2:]) or "(dataset)"
    return AGENCY_LEVEL, _dotted(loc)


def _config_dataset(datasets: Mapping[str, Any], loc: tuple[Any, ...]) -> tuple[str, str]:
    if loc and loc[0] in datasets:
        return _slug(datasets[loc[0]], str(loc[0])), _dotted(loc[1:]) or "(dataset)"
    return CONFIG_LEVEL, _dotted(loc)


def _dotted(loc: Sequence[Any]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("sql", "csv", "http", "crosswalk", "pseudonymize", "drop"):
            continue  # discriminated-union branch names are noise to a reader
        elif str(item).startswith(("function-", "constrained-")):
            continue
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _unique(found: list[Problem]) -> list[Problem]:
    """In the order found (schema first, then the spec's own order), each problem once."""
    return list(dict.fromkeys(found))


def _slug(dataset: Any, fallback: str) -> str:
    slug = dataset.get("slug") if isinstance(dataset, Mapping) else None
    return slug if isinstance(slug, str) and slug else fallback


def _entries(value: Any) -> list[Mapping[str, Any]]:
    return [v if isinstance(v, Mapping) else {} for v in value] if isinstance(value, list) else []


def require_standard_metadata(
    agency: AgencySpec, dataset: DatasetSpec, today: dt.date | None = None
) -> None:
    """Refuse to publish a dataset whose metadata breaks the state's guidelines (SpecError
    listing every problem), the check `ctdata lint` makes on the spec file."""
    found = dataset_problems(dataset.model_dump(mode="json"), today)
    if found:
        lines = "\n  ".join(f"{where}: {message}" for where, message in found)
        raise SpecError(
            f"dataset {dataset.slug!r} of {agency.code!r}: its metadata does not meet the "
            f"state's standard, so nothing was published ({len(found)} problem(s); "
            f"`ctdata lint` lists them in the spec):\n  {lines}"
        )
