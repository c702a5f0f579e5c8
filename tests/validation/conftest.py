"""Shared frames for the validation tests: small valid tables for each demo suite, built from
the domains tools/build_suites.py wrote the suites from.

GX is slow to import and to build a context, so ctdata.validation caches one ephemeral
context per process; every test here reuses it. Results a test keeps go to its own folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from ctdata.validation.archive import ResultArchive

REPO = Path(__file__).resolve().parents[2]
SUITES_DIR = REPO / "expectations"


def load_suite_tool() -> ModuleType:
    """tools/build_suites.py (a script, not part of the library) as a module."""
    spec = importlib.util.spec_from_file_location(
        "build_suites", REPO / "tools" / "build_suites.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


suite_tool = load_suite_tool()
AGE_GROUPS, DRUG_FLAGS, SEXES = suite_tool.AGE_GROUPS, suite_tool.DRUG_FLAGS, suite_tool.SEXES
TOTAL, UNKNOWN, YEARS = suite_tool.TOTAL, suite_tool.UNKNOWN, suite_tool.YEARS
ct_towns, town_counties = suite_tool.ct_towns, suite_tool.town_counties
BY_TOWN_SPEC = {
    "dimensions": ["town", "year", "sex"],
    "counts": ["deaths"],
    "threshold": 5,
    "total_label": TOTAL,
}


@pytest.fixture(scope="session")
def by_town_spec() -> dict:
    """The suppression spec of the by-town table, as the DAG passes it at run time."""
    return dict(BY_TOWN_SPEC)


@pytest.fixture(scope="session")
def build_suites() -> ModuleType:
    """The suite generator, tools/build_suites.py."""
    return suite_tool


@pytest.fixture
def store(tmp_path: Path) -> ResultArchive:
    """A result archive of the test's own (a local folder)."""
    return ResultArchive(str(tmp_path / "data_docs"))


@pytest.fixture(scope="session")
def towns() -> list[str]:
    return ct_towns()


@pytest.fixture(scope="session")
def suites_dir() -> Path:
    return SUITES_DIR


@pytest.fixture
def source_frame(towns: list[str]) -> Callable[..., pd.DataFrame]:
    """A valid extracted OCME frame of n rows with `unknown` of them in town 'Unknown'."""

    def build(n: int = 100, unknown: int = 0) -> pd.DataFrame:
        frame = pd.DataFrame(
            {
                "case_id": [f"{12 + i % 7}-{i:04d}" for i in range(n)],
                "year": [YEARS[i % len(YEARS)] for i in range(n)],
                "sex": [SEXES[i % len(SEXES)] for i in range(n)],
                "death_town": [towns[(i * 7) % len(towns)] for i in range(n)],
                "age": [float(18 + i % 70) if i % 11 else np.nan for i in range(n)],
            }
        )
        frame.loc[: unknown - 1, "death_town"] = UNKNOWN
        return frame

    return build


def _cube_frame(interior: np.ndarray, suppressed: set[tuple[int, int, int]]) -> pd.DataFrame:
    """The published by-town table: interior counts plus every margin, some cells suppressed."""
    towns = [*ct_towns(), UNKNOWN]
    years = [str(y) for y in YEARS]
    full = np.zeros((len(towns) + 1, len(years) + 1, len(SEXES) + 1), dtype=np.int64)
    full[:-1, :-1, :-1] = interior
    full[-1, :, :] = full[:-1, :, :].sum(axis=0)
    full[:, -1, :] = full[:, :-1, :].sum(axis=1)
    full[:, :, -1] = full[:, :, :-1].sum(axis=2)
    rows = []
    labels = itertools.product(
        enumerate([*towns, TOTAL]), enumerate([*years, TOTAL]), enumerate([*SEXES, TOTAL])
    )
    for (i, town), (j, year), (k, sex) in labels:
        hidden = (i, j, k) in suppressed
        key = f"{town}|{year}|{sex}"
        rows.append(
            {
                "town": town,
                "year": year,
                "sex": sex,
                "deaths": None if hidden else int(full[i, j, k]),
                "deaths_suppressed": hidden,
                "cell_id": hashlib.sha1(key.encode()).hexdigest()[:16],
            }
        )
    frame = pd.DataFrame(rows)
    frame["deaths"] = frame["deaths"].astype("Int64")
    return frame


@pytest.fixture(scope="session")
def by_town_frame() -> pd.DataFrame:
    """Valid and safe: a 2x2x2 cube of suppressed cells (towns 0,1 x years 0,1 x Male,Total).

    Every relation through a suppressed cell holds two of them, so none is recoverable; the
    primary cell (3 deaths) is hidden and every published count is 0 or above 5.
    """
    towns = ct_towns()
    interior = np.zeros((len(towns) + 1, len(YEARS), len(SEXES)), dtype=np.int64)
    interior[0, 0, 0], interior[0, 1, 0], interior[1, 0, 0], interior[1, 1, 0] = 3, 8, 8, 9
    interior[0, 0, 1] = 10
    interior[40, 3, 1] = 12
    total_sex = len(SEXES)
    cube = {(t, y, s) for t in (0, 1) for y in (0, 1) for s in (0, total_sex)}
    return _cube_frame(interior, cube)


@pytest.fixture(scope="session")
def by_town_unsafe_frame() -> pd.DataFrame:
    """Passes the privacy gate but the lone suppressed cell is its row's only unknown."""
    towns = ct_towns()
    interior = np.zeros((len(towns) + 1, len(YEARS), len(SEXES)), dtype=np.int64)
    interior[0, 0, 0], interior[0, 1, 0], interior[1, 0, 0] = 3, 8, 8
    total_sex = len(SEXES)
    return _cube_frame(interior, {(0, 0, 0), (0, 0, total_sex)})


@pytest.fixture
def records_frame() -> Callable[..., pd.DataFrame]:
    """A valid de-identified record-level frame of n rows."""

    def build(n: int = 60) -> pd.DataFrame:
        # Rows come in blocks of 6 sharing year, age group and sex (the k-anonymity gate).
        frame = pd.DataFrame(
            {
                "record_id": [hashlib.sha256(str(i).encode()).hexdigest()[:16] for i in range(n)],
                "year": [YEARS[(i // 6) % len(YEARS)] for i in range(n)],
                "age_group": [AGE_GROUPS[(i // 6) % len(AGE_GROUPS)] for i in range(n)],
                "sex": [SEXES[(i // 6) % len(SEXES)] for i in range(n)],
            }
        )
        for offset, flag in enumerate(DRUG_FLAGS):
            frame[flag] = [(i + offset) % 3 == 0 for i in range(n)]
        return frame

    return build


@pytest.fixture
def towns_frame() -> pd.DataFrame:
    """A valid OPM towns table: 169 towns with their counties."""
    return pd.DataFrame(town_counties(), columns=["town", "county"])
