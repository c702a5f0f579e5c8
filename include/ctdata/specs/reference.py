"""The agency spec's field reference, written from the models themselves: the README's "Spec
reference" section is this text (`ctdata schema --reference`; a test fails when the README
falls behind), and an unknown field's "did you mean" points at it."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from ctdata.specs.models import AgencySpec
from ctdata.yaml_models import _flatten, _is_model

MAX_LITERALS = 6  # longer vocabularies are named, not listed (the JSON Schema lists them)
BEGIN, END = "<!-- spec-reference:begin -->", "<!-- spec-reference:end -->"


def reference_markdown(root: type[BaseModel] = AgencySpec) -> str:
    """One table per model reachable from `root`, in the order a spec nests them."""
    parts = [BEGIN]
    for model in _models(root):
        parts.append(f"**`{model.__name__}`**" + _summary(model))
        parts.append("")
        parts.append("| field | type | required / default | description |")
        parts.append("|---|---|---|---|")
        for name, info in model.model_fields.items():
            parts.append(
                f"| `{name}` | {_type(info.annotation)} | {_default(info)} | "
                f"{(info.description or '').replace('|', '/')} |"
            )
        parts.append("")
    parts.append(END)
    return "\n".join(parts)


def _summary(model: type[BaseModel]) -> str:
    doc = (model.__doc__ or "").strip().split("\n\n")[0]
    return f": {' '.join(doc.split())}" if doc else ""


def _models(root: type[BaseModel]) -> Iterator[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    queue = [root]
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.append(model)
        yield model
        for info in model.model_fields.values():
            queue += [t for t in _members(info.annotation) if _is_model(t) and t not in seen]


def _members(annotation: Any) -> list[Any]:
    found = []
    for member in _flatten(annotation):
        if typing.get_origin(member) in (list, tuple, set, dict):
            found += [m for arg in typing.get_args(member) for m in _members(arg)]
        else:
            found.append(member)
    return found


def _type(annotation: Any) -> str:
    members = [m for m in _flatten(annotation) if m is not type(None)]
    return " or ".join(_one(m) for m in members) or "null"


def _one(member: Any) -> str:
    origin = typing.get_origin(member)
    if origin is typing.Literal:
        values = typing.get_args(member)
        if len(values) > MAX_LITERALS:
            return f"one of {len(values)} vocabulary values (`ctdata schema` lists them)"
        return " / ".join(f"`{v}`" for v in values)
    if origin in (list, tuple, set):
        return "list of " + " or ".join(_type(arg) for arg in typing.get_args(member))
    if origin is dict:
        return "mapping"
    if _is_model(member):
        return f"`{member.__name__}`"
    if isinstance(member, types.GenericAlias | type):
        return getattr(member, "__name__", str(member))
    return str(member).replace("typing.", "")


def _default(info: Any) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "optional"
    if isinstance(value, BaseModel):
        return "its defaults"
    return f"`{value!r}`" if not isinstance(value, list) or value else "`[]`"
