"""Read suite JSON files (as `ExpectationSuite.to_json_dict()` writes them) strictly.

GX's own ExpectationSuite constructor logs and *drops* an expectation it cannot build; for a
publication gate that would silently weaken the checks, so every expectation is built here
first and any problem raises ValidationFailed naming the file and the expectation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ctdata.errors import ValidationFailed

SUITE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
PASSED_THROUGH = ("meta", "notes", "description", "severity")

RuntimeKwargs = dict[str, dict[str, Any]]


def suite_path(name: str, expectations_dir: Path) -> Path:
    """Where suite `name` lives; rejects names that could escape the folder."""
    if not isinstance(name, str) or not SUITE_NAME.match(name):
        raise ValidationFailed(
            f"Suite name {name!r} is not a plain file name: use letters, digits, '_', '-' "
            f"or '.' (it names {expectations_dir}/<name>.json)."
        )
    return expectations_dir / f"{name}.json"


def read_suite_json(path: Path, name: str) -> dict[str, Any]:
    """The suite file parsed and shape-checked (a dict with a list of expectations)."""
    if not path.is_file():
        raise ValidationFailed(
            f"Expectation suite file {path} not found (suite '{name}'). Create it "
            f"(GX 1.x suite JSON) or fix the suite name in the agency spec."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"Expectation suite file {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}. Fix the file (or regenerate it)."
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"Expectation suite file {path} cannot be read: {exc}") from exc
    _check_shape(data, path, name)
    return data


def _check_shape(data: Any, path: Path, name: str) -> None:
    if not isinstance(data, dict):
        raise ValidationFailed(
            f"Expectation suite file {path} must hold a JSON object with 'name' and "
            f"'expectations', not {type(data).__name__}."
        )
    if data.get("name", name) != name:
        raise ValidationFailed(
            f"Expectation suite file {path} declares name {data.get('name')!r} but is loaded as "
            f"'{name}': make the 'name' field match the file name."
        )
    expectations = data.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise ValidationFailed(
            f"Expectation suite file {path} needs a non-empty list 'expectations' (an empty "
            f"suite would pass anything)."
        )


def build_expectations(
    data: dict[str, Any], path: Path, runtime_kwargs: RuntimeKwargs | None = None
) -> list[Any]:
    """GX Expectation objects for every entry, runtime kwargs merged in (they win)."""
    from great_expectations.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    built = []
    for index, entry in enumerate(data["expectations"]):
        where = f"expectations[{index}] of {path}"
        exp_type, kwargs, extra = _entry_parts(entry, where)
        kwargs.update(_plain(runtime_kwargs.get(exp_type, {})) if runtime_kwargs else {})
        try:
            config = ExpectationConfiguration(type=exp_type, kwargs=kwargs, **extra)
            built.append(config.to_domain_obj())
        except ExpectationNotFoundError as exc:
            raise ValidationFailed(
                f"Unknown expectation type '{exp_type}' in {where}. Use a GX 1.x built-in or a "
                f"ctdata custom expectation (expect_column_values_to_not_be_small_counts, "
                f"expect_table_disclosure_audit_to_pass), and check the spelling."
            ) from exc
        except Exception as exc:  # pydantic errors, bad severity, bad row_condition ...
            raise ValidationFailed(
                f"Invalid arguments for '{exp_type}' in {where}: {_one_line(exc)}. "
                f"Fix the kwargs in the suite file."
            ) from exc
    return built


def _entry_parts(entry: Any, where: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    if not isinstance(entry, dict):
        raise ValidationFailed(f"{where} must be a JSON object with 'type' and 'kwargs'.")
    exp_type = entry.get("type", entry.get("expectation_type"))
    if not isinstance(exp_type, str) or not exp_type:
        raise ValidationFailed(
            f"{where} has no 'type' (e.g. \"expect_column_values_to_be_unique\")."
        )
    kwargs = entry.get("kwargs", {})
    if not isinstance(kwargs, dict):
        raise ValidationFailed(f"{where} ('{exp_type}'): 'kwargs' must be a JSON object.")
    extra = {key: entry[key] for key in PASSED_THROUGH if entry.get(key) is not None}
    return exp_type, dict(kwargs), extra


def _plain(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Runtime kwargs may carry pydantic models (e.g. a SuppressionSpec): dump them to dicts."""
    out = {}
    for key, value in kwargs.items():
        out[key] = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
    return out


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def check_runtime_kwargs(runtime_kwargs: RuntimeKwargs | None) -> None:
    """Catch typos in the expectation types the caller means to fill at run time."""
    if not runtime_kwargs:
        return
    from great_expectations.expectations.registry import _registered_expectations

    for exp_type, kwargs in runtime_kwargs.items():
        if exp_type not in _registered_expectations:
            raise ValidationFailed(
                f"runtime_kwargs names unknown expectation type '{exp_type}': use the snake_case "
                f"type as it appears in the suite JSON."
            )
        if not isinstance(kwargs, dict):
            raise ValidationFailed(
                f"runtime_kwargs['{exp_type}'] must be a dict of kwargs, not "
                f"{type(kwargs).__name__}."
            )


def load_suite(
    name: str, expectations_dir: Path, runtime_kwargs: RuntimeKwargs | None = None
) -> Any:
    """The GX ExpectationSuite stored in `<expectations_dir>/<name>.json`, fully built."""
    import great_expectations as gx

    path = suite_path(name, expectations_dir)
    data = read_suite_json(path, name)
    expectations = build_expectations(data, path, runtime_kwargs)
    try:
        return gx.ExpectationSuite(name=name, expectations=expectations, meta=data.get("meta"))
    except Exception as exc:  # e.g. a 'meta' that is not a JSON object
        raise ValidationFailed(
            f"Expectation suite file {path} is invalid: {_one_line(exc)}"
        ) from exc
