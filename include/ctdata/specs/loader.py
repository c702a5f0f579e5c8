"""Load agency specs from YAML, turning validation failures into messages people can act on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ctdata import settings
from ctdata.errors import SpecError
from ctdata.specs.models import AgencySpec
from ctdata.yaml_models import load_yaml_model


def load_agency(path: str | Path) -> AgencySpec:
    """Read and validate one spec; raise SpecError naming the file, the field and the reason."""
    path = Path(path)
    spec = load_yaml_model(path, AgencySpec, error=SpecError, what="agency spec")
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


@dataclass(frozen=True)
class SpecSet:
    """Every agency spec of a folder: the valid ones, and an error for each invalid one."""

    agencies: list[AgencySpec]
    errors: list[SpecError]


def load_all(directory: str | Path | None = None) -> SpecSet:
    """Load every `*.yaml` of the folder; one bad spec does not hide the others."""
    directory = Path(directory) if directory else settings.current().agencies_dir
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
    base = agencies_dir or settings.current().agencies_dir
    for folder in (base, settings.PROJECT_ROOT / "include" / "ctdata" / "data"):
        if (folder / candidate).exists():
            return folder / candidate
    return base / candidate
