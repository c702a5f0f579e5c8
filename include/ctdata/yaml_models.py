"""YAML-backed models: their strict base, and reading a YAML file into one with errors that
name the file, the field and the reason. Agency specs, suppression specs and the usage metrics
config all are such models."""

from __future__ import annotations

import difflib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ctdata.errors import CtDataError

M = TypeVar("M", bound=BaseModel)
# libyaml's loader when PyYAML has it: 10x faster, and the DAG processor reads every agency spec
# at each parse of the dags folder.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Strict(BaseModel):
    """Base of every YAML-backed model: a misspelt key fails loudly instead of being ignored,
    and a loaded spec cannot be changed by the code that reads it."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def load_yaml_model(
    path: str | Path, model: type[M], *, error: type[CtDataError], what: str = "spec"
) -> M:
    """Parse and validate; any problem raises `error` with a message people can act on."""
    path = Path(path)
    raw = read_yaml_mapping(path, error=error, what=what)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(describe_validation_error(path, raw, exc, model)) from None


def read_yaml_mapping(path: Path, *, error: type[CtDataError], what: str = "spec") -> dict:
    """The YAML file's top-level mapping; unreadable or invalid YAML raises `error`."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise error(f"{path}: the {what} must be a mapping of keys to values")
    return raw


def describe_validation_error(
    path: Path, raw: dict[str, Any], exc: ValidationError, model: type[BaseModel] | None = None
) -> str:
    """One line per problem: the field path (datasets also by slug) and a plain reason."""
    return describe_errors(path, raw, exc.errors(include_url=False), model)


def describe_errors(
    path: Path, raw: dict[str, Any], errors: list[Any], model: type[BaseModel] | None = None
) -> str:
    """`describe_validation_error` for some of a ValidationError's errors."""
    problems = [f"{_location(raw, error['loc'])}: {error_reason(error, model)}" for error in errors]
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


SPEC_REFERENCE = 'the README\'s "Spec reference"'


def error_reason(error: dict[str, Any], model: type[BaseModel] | None = None) -> str:
    """A pydantic error in words (missing, unknown field, value not allowed...); an unknown
    field gets the closest field the model allows at that place ("did you mean")."""
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] == "extra_forbidden":
        return unknown_field_reason(model, tuple(error["loc"]))
    if error["type"] == "literal_error":
        return f"{error.get('input')!r} is not allowed: {message}"
    return message


def unknown_field_reason(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> str:
    """'unknown field: did you mean X?' from the fields the model allows where `loc` points."""
    allowed = sorted(allowed_fields(model, loc[:-1])) if model is not None else []
    unknown = str(loc[-1]) if loc else ""
    close = difflib.get_close_matches(unknown, allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    listed = f"allowed here: {', '.join(allowed)}; " if allowed and not close else ""
    return f"unknown field {unknown!r}: {hint}{listed}see {SPEC_REFERENCE}"


def allowed_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> set[str]:
    """The field names of the model(s) found by following `loc` (field names, list indexes and
    the tags pydantic puts in the path of a discriminated union) from `model`."""
    nodes: list[Any] = [model]
    for item in loc:
        nodes = _step(nodes, item)
    return {
        name
        for node in nodes
        if _is_model(node)
        for name in node.model_fields  # type: ignore[union-attr]
    }


def _step(nodes: list[Any], item: Any) -> list[Any]:
    found: list[Any] = []
    for node in nodes:
        if isinstance(item, int):
            origin = typing.get_origin(node)
            if origin in (list, tuple, set, frozenset):
                found += [t for arg in typing.get_args(node) for t in _flatten(arg)]
        elif _is_model(node) and item in node.model_fields:
            found += _flatten(node.model_fields[item].annotation)
        elif _is_model(node) and _has_tag(node, item):
            found.append(node)  # the branch of a discriminated union that pydantic names
        elif typing.get_origin(node) is dict:
            found += _flatten(typing.get_args(node)[-1])
    return found


def _flatten(annotation: Any) -> list[Any]:
    """Annotated and unions unwrapped into their member types."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _flatten(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _flatten(arg)]
    return [annotation]


def _is_model(node: Any) -> bool:
    return isinstance(node, type) and issubclass(node, BaseModel)


def _has_tag(model: type[BaseModel], tag: Any) -> bool:
    """Does a Literal field of the model (its discriminator) take the value `tag`?"""
    for info in model.model_fields.values():
        if typing.get_origin(info.annotation) is typing.Literal and tag in typing.get_args(
            info.annotation
        ):
            return True
    return False
