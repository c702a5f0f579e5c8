"""Load agency specs from YAML, turning validation failures into messages people can act on.

A mistake in one dataset of a spec costs that dataset only: the agency loads with its valid
datasets, and each invalid one is reported (`InvalidDataset`), so the DAG keeps publishing the
others and shows the broken one as a task that fails with the reason. A mistake outside the
datasets (the agency's code, data officer, connection...) invalidates the whole spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ctdata import settings
from ctdata.errors import SpecError
from ctdata.specs.models import AgencySpec
from ctdata.yaml_models import describe_errors, describe_validation_error, read_yaml_mapping

_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
REFERENCE_DATA = Path(__file__).resolve().parents[1] / "data"  # the package's ctdata/data


@dataclass(frozen=True)
class InvalidDataset:
    """A dataset entry of an otherwise valid spec that does not validate."""

    agency: str
    slug: str  # its slug, or `dataset_<n>` when the entry has no usable one
    error: SpecError


@dataclass(frozen=True)
class AgencyRead:
    agency: AgencySpec
    invalid: list[InvalidDataset] = field(default_factory=list)


def read_agency(path: str | Path) -> AgencyRead:
    """Read one spec: the agency with its valid datasets and the datasets that are invalid.
    Raises SpecError when the agency itself is invalid (or none of its datasets is valid)."""
    path = Path(path)
    raw = read_yaml_mapping(path, error=SpecError, what="agency spec")
    try:
        return AgencyRead(_checked(AgencySpec.model_validate(raw), path))
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    by_dataset: dict[int, list[Any]] = {}
    for error in errors:
        loc = error["loc"]
        if len(loc) < 2 or loc[0] != "datasets" or not isinstance(loc[1], int):
            raise SpecError(describe_errors(path, raw, errors, AgencySpec)) from None
        by_dataset.setdefault(loc[1], []).append(error)
    entries = raw.get("datasets") or []
    valid = [entry for index, entry in enumerate(entries) if index not in by_dataset]
    try:
        agency = AgencySpec.model_validate({**raw, "datasets": valid})
    except ValidationError as exc:
        raise SpecError(describe_validation_error(path, raw, exc, AgencySpec)) from None
    code = str(raw.get("code"))
    invalid = [
        InvalidDataset(code, _slug_of(entries[index], index),
                       SpecError(describe_errors(path, raw, found, AgencySpec)))
        for index, found in sorted(by_dataset.items())
    ]  # fmt: skip
    return AgencyRead(_checked(agency, path), invalid)


def load_agency(path: str | Path, *, skip_invalid_datasets: bool = False) -> AgencySpec:
    """Read and validate one spec; raise SpecError naming the file, the field and the reason.
    With `skip_invalid_datasets` (what a task needs of its agency), an invalid dataset leaves
    the others usable instead of failing the whole spec."""
    read = read_agency(path)
    if read.invalid and not skip_invalid_datasets:
        raise SpecError("\n".join(str(d.error) for d in read.invalid))
    return read.agency


def _checked(spec: AgencySpec, path: Path) -> AgencySpec:
    if spec.code != path.stem:
        raise SpecError(
            f"{path}: code: {spec.code!r} must match the file name; "
            f"rename the file to {spec.code}.yaml or change the code"
        )
    return spec


def load_agency_code(code: str, directory: Path | None = None) -> AgencySpec:
    """The spec of the agency with this code, from the agencies folder."""
    directory = directory or settings.current().agencies_dir
    path = directory / f"{code}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.yaml")))
        raise SpecError(f"no agency spec {path} (agencies: {known})")
    return load_agency(path)


def _slug_of(entry: Any, index: int) -> str:
    slug = entry.get("slug") if isinstance(entry, dict) else None
    return (
        slug
        if isinstance(slug, str) and _SLUG.match(slug) and len(slug) <= 40
        else (f"dataset_{index + 1}")
    )


@dataclass(frozen=True)
class SpecSet:
    """Every agency spec of a folder: the valid agencies (each with its valid datasets), an
    error for each invalid spec or dataset, and the invalid datasets of valid agencies."""

    agencies: list[AgencySpec]
    errors: list[SpecError]
    invalid_datasets: list[InvalidDataset] = field(default_factory=list)


def load_all(directory: str | Path | None = None) -> SpecSet:
    """Load every `*.yaml` of the folder; one bad spec (or dataset) does not hide the others."""
    directory = Path(directory) if directory else settings.current().agencies_dir
    agencies: list[AgencySpec] = []
    errors: list[SpecError] = []
    invalid: list[InvalidDataset] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            read = read_agency(path)
        except SpecError as exc:
            errors.append(exc)
            continue
        agencies.append(read.agency)
        invalid += read.invalid
        errors += [d.error for d in read.invalid]
    return SpecSet(agencies, errors, invalid)


def resolve_path(spec_path: str, agencies_dir: Path | None = None) -> Path:
    """Resolve a file named in a spec: absolute, relative to the agencies folder, or a file of
    the package's reference data (include/ctdata/data)."""
    candidate = Path(spec_path)
    if candidate.is_absolute():
        return candidate
    base = agencies_dir or settings.current().agencies_dir
    for folder in (base, REFERENCE_DATA):
        if (folder / candidate).exists():
            return folder / candidate
    return base / candidate
