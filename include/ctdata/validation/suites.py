"""Read suite JSON files (as `ExpectationSuite.to_json_dict()` writes them) strictly.

GX's own ExpectationSuite constructor logs and *drops* an expectation it cannot build; for a
publication gate that would silently weaken the checks, so every expectation is built here
first and any problem raises ValidationFailed naming the file and the expectation. Values known
only at run time are GX suite parameters (`{"$PARAMETER": "name"}`); `check_parameters` makes
sure a run supplies every one a suite uses before anything is validated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctdata.errors import ValidationFailed

SUITE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
PASSED_THROUGH = ("meta", "notes", "description", "severity")


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


def register_custom_expectations() -> None:
    """Importing the ctdata expectation modules registers them with GX (its metaclass does)."""
    import ctdata.validation.disclosure_audit
    import ctdata.validation.geometry
    import ctdata.validation.group_sizes
    import ctdata.validation.population_audit
    import ctdata.validation.small_counts  # noqa: F401


def build_expectations(data: dict[str, Any], path: Path) -> list[Any]:
    """GX Expectation objects for every entry of a suite file."""
    from great_expectations.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    register_custom_expectations()
    built = []
    for index, entry in enumerate(data["expectations"]):
        where = f"expectations[{index}] of {path}"
        exp_type, kwargs, extra = _entry_parts(entry, where)
        try:
            config = ExpectationConfiguration(type=exp_type, kwargs=kwargs, **extra)
            built.append(config.to_domain_obj())
        except ExpectationNotFoundError as exc:
            raise ValidationFailed(
                f"Unknown expectation type '{exp_type}' in {where}. Use a GX 1.x built-in or a "
                f"ctdata custom expectation (expect_column_values_to_not_be_small_counts, "
                f"expect_table_disclosure_audit_to_pass, expect_table_group_sizes_to_be_at_least, "
                f"expect_column_values_to_be_valid_geometry), "
                f"and check the spelling."
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


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def check_parameters(suite: Any, path: Path, given: Mapping[str, Any]) -> None:
    """Every suite parameter the suite uses must be given: GX would stop at the first missing
    one with a bare "No value found"; this names the file, the expectation and the remedy."""
    for index, expectation in enumerate(suite.expectations):
        missing = [p for p in expectation.suite_parameter_options if p not in given]
        if missing:
            offered = ", ".join(sorted(given)) or "none"
            raise ValidationFailed(
                f"Suite parameter '{missing[0]}' of '{expectation.expectation_type}' "
                f"(expectations[{index}] of {path}) has no value in this run (given: {offered}). "
                f"The pipeline gives 'suppression_spec' to datasets with an 'aggregation' in "
                f"their spec; elsewhere pass run_suites(..., parameters={{'{missing[0]}': ...}}) "
                f"or write the value into the suite."
            )


def load_suite(name: str, expectations_dir: Path) -> Any:
    """The GX ExpectationSuite stored in `<expectations_dir>/<name>.json`, fully built."""
    import great_expectations as gx

    path = suite_path(name, expectations_dir)
    data = read_suite_json(path, name)
    expectations = build_expectations(data, path)
    try:
        return gx.ExpectationSuite(name=name, expectations=expectations, meta=data.get("meta"))
    except Exception as exc:  # e.g. a 'meta' that is not a JSON object
        raise ValidationFailed(
            f"Expectation suite file {path} is invalid: {_one_line(exc)}"
        ) from exc
