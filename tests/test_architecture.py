"""The architecture holds: the library and its two front doors, a stand-in that knows nothing of
the pipeline, no cycles, short modules, and every direct import declared."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from ctdata import settings

ROOT = settings.PROJECT_ROOT
INCLUDE = ROOT / "include"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
FRONT_DOORS = {"ctdata.airflow", "ctdata.cli", "ctdata.demo"}
NOT_CODE = {"ctdata.data"}
MAX_LINES = 400


def _contracts() -> list[dict]:
    return PYPROJECT["tool"]["importlinter"]["contracts"]


def test_layering_contract_holds() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(INCLUDE), "PATH": str(lint.parent)},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_part_of_ctdata_is_library_or_front_door() -> None:
    """A new package must be placed on one side of the layering contract."""
    library = set(_contracts()[0]["source_modules"])
    parts = {
        f"ctdata.{path.stem if path.is_file() else path.name}"
        for path in (INCLUDE / "ctdata").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    parts |= {f"ctdata.{p.name}" for p in (INCLUDE / "ctdata").iterdir() if p.name == "data"}
    assert parts - FRONT_DOORS - NOT_CODE == library


def test_no_module_over_the_line_limit() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in INCLUDE.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these modules (over {MAX_LINES} lines): {long}"


def _third_party_imports() -> set[str]:
    names: set[str] = set()
    for path in INCLUDE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    first_party = {"ctdata", "socrata_emulator", "agency_api_emulator"}
    return {n for n in names if n not in sys.stdlib_module_names and n not in first_party}


def _declared() -> set[str]:
    import re

    return {
        re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        for requirement in PYPROJECT["project"]["dependencies"]
    }


def test_direct_imports_are_declared_dependencies() -> None:
    distributions = {**packages_distributions(), "airflow": ["apache-airflow"]}  # meta package
    missing = {}
    for name in sorted(_third_party_imports()):
        dists = {d.lower().replace("_", "-") for d in distributions.get(name, [name])}
        if not dists & _declared():
            missing[name] = sorted(dists)
    assert missing == {}, f"declare in pyproject.toml [project] dependencies: {missing}"
