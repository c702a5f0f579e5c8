"""YAML-backed models: their strict base, and reading a YAML file into one with errors that
name the file, the field and the reason. Agency specs, suppression specs and the usage metrics
config all are such models."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ctdata.errors import CtDataError

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base of every YAML-backed model: a misspelt key fails loudly instead of being ignored,
    and a loaded spec cannot be changed by the code that reads it."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def load_yaml_model(
    path: str | Path, model: type[M], *, error: type[CtDataError], what: str = "spec"
) -> M:
    """Parse and validate; any problem raises `error` with a message people can act on."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise error(f"{path}: the {what} must be a mapping of keys to values")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(describe_validation_error(path, raw, exc)) from None


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
