"""Load agency specs from YAML, turning validation failures into messages people can act on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ctdata import settings
from ctdata.errors import SpecError
from ctdata.specs.models import AgencySpec


def load_agency(path: str | Path) -> AgencySpec:
    """Read and validate one spec; raise SpecError naming the file, the field and the reason."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping with 'code', 'name' and 'datasets' at the top")
    try:
        spec = AgencySpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(describe_validation_error(path, raw, exc)) from None
    if spec.code != path.stem:
        raise SpecError(
            f"{path}: code: {spec.code!r} must match the file name; "
            f"rename the file to {spec.code}.yaml or change the code"
        )
    return spec


@dataclass(frozen=True)
class SpecSet:
    """Every agency spec of a folder: the valid ones, and an error for each invalid one."""

    agencies: list[AgencySpec]
    errors: list[SpecError]


def load_all(directory: str | Path | None = None) -> SpecSet:
    """Load every `*.yaml` of the folder; one bad spec does not hide the others."""
    directory = Path(directory) if directory else settings.agencies_dir()
    agencies: list[AgencySpec] = []
    errors: list[SpecError] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            agencies.append(load_agency(path))
        except SpecError as exc:
            errors.append(exc)
    return SpecSet(agencies, errors)


def resolve_path(spec_path: str, agencies_dir: Path | None = None) -> Path:
    """Resolve a file named in a spec: absolute, relative to the agencies folder, or a file of
    the package's reference data (include/ctdata/data)."""
    candidate = Path(spec_path)
    if candidate.is_absolute():
        return candidate
    base = agencies_dir or settings.agencies_dir()
    for folder in (base, settings.PROJECT_ROOT / "include" / "ctdata" / "data"):
        if (folder / candidate).exists():
            return folder / candidate
    return base / candidate


def describe_validation_error(path: Path, raw: dict[str, Any], exc: ValidationError) -> str:
    """One line per problem: the field path (datasets also by slug) and a plain reason."""
    problems = [
        f"{_location(raw, error['loc'])}: {_reason(error)}"
        for error in exc.errors(include_url=False)
    ]
    return f"{path}: " + (
        "; ".join(problems) if len(problems) == 1 else "\n  " + "\n  ".join(problems)
    )


def _location(raw: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """Dotted field path; dataset indexes also show the dataset's slug, which people search for."""
    parts: list[str] = []
    for index, item in enumerate(loc):
        if isinstance(item, int):
            label = f"[{item}]"
            if loc[:index] == ("datasets",):
                slug = _slug(raw, item)
                label = f"[{item}] ({slug})" if slug else label
            parts.append(label)
        elif item in ("sql", "csv", "http", "crosswalk", "pseudonymize", "drop"):
            continue  # discriminated-union branch names are noise to a reader
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def _slug(raw: dict[str, Any], index: int) -> str | None:
    datasets = raw.get("datasets")
    if isinstance(datasets, list) and index < len(datasets) and isinstance(datasets[index], dict):
        slug = datasets[index].get("slug")
        return str(slug) if slug else None
    return None


def _reason(error: dict[str, Any]) -> str:
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] == "extra_forbidden":
        return "unknown field (check its spelling against the README's spec reference)"
    if error["type"] == "literal_error":
        return f"{error.get('input')!r} is not allowed: {message}"
    return message
