"""The population rows of bench/suppression.py: what protection over time and across tables
costs, in cells suppressed and records generalized, against protecting each table alone.

The OCME demo's tables are read as the DAG reads them: the shipped records loaded into the
demo's SQLite source, each dataset's SQL and transforms from include/agencies/ocme.yaml.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ctdata.demo.environment import load_ocme_source
from ctdata.disclosure.assess import assess
from ctdata.disclosure.joint import protect
from ctdata.pipeline.protection import member_for
from ctdata.sources import extract
from ctdata.specs.loader import load_agency
from ctdata.transforms import apply_transforms

SPEC = Path(__file__).resolve().parents[2] / "include" / "agencies" / "ocme.yaml"
SLUGS = ("deaths_by_town", "deaths_by_age", "deaths_records")


def ocme_frames() -> tuple[object, dict[str, pd.DataFrame]]:
    agency = load_agency(SPEC)
    folder = Path(tempfile.mkdtemp(prefix="bench-ocme-"))
    (folder / "sources").mkdir()
    load_ocme_source(folder / "sources" / "ocme.db")
    os.environ["CTDATA_VAR_DIR"] = str(folder)
    os.environ.setdefault("CTDATA_PSEUDONYM_KEY", "bench-only-key")
    frames = {s: apply_transforms(extract(agency.dataset(s)), agency.dataset(s)) for s in SLUGS}
    return agency, frames


def refreshed(frame: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """Release 2: one town-year cell falls from 27 to 4 and eight deaths alone in their
    town that year are re-coded to Hartford (as the tests' refresh)."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    size = out.groupby(["death_town", "year"]).size()
    town, year = size[size == 27].index[0]
    rows = out.index[(out.death_town == town) & (out.year == year)][:23]
    out.loc[rows, "death_town"] = "Hartford"
    alone = size[size == 1].index
    for i in rng.choice(len(alone), 8, replace=False):
        t, y = alone[i]
        out.loc[(out.death_town == t) & (out.year == y), "death_town"] = "Hartford"
    return out


def _row(scenario: str, method: str, seconds: float, result, releases) -> dict:  # noqa: ANN001
    suppressed = sum(s.get("cells_suppressed", 0) for s in result.stats.values())
    generalized = sum(
        s.get(k, 0) for s in result.stats.values() for k in s if k.startswith("records_generalized")
    )
    removed = sum(s.get("records_removed", 0) for s in result.stats.values())
    verdict = assess(releases)
    return {
        "scenario": scenario,
        "method": method,
        "seconds": seconds,
        "cells suppressed": suppressed,
        "records generalized": generalized,
        "records removed": removed,
        "disclosed (attacker model)": len(verdict.disclosures),
    }


def population_rows() -> list[dict]:
    agency, frames = ocme_frames()
    rows = []
    town = agency.dataset("deaths_by_town")
    first = member_for(agency, town, frames["deaths_by_town"])
    second = member_for(agency, town, refreshed(frames["deaths_by_town"]))
    r1 = protect([first], [], snapshot="r1", seq=1).releases[first.table]
    t0 = time.perf_counter()
    alone = protect([second], [], snapshot="r2", seq=2)
    rows.append(_row("town x year x sex, release 2", "from scratch", time.perf_counter() - t0,
                     alone, [r1, *alone.releases.values()]))  # fmt: skip
    t0 = time.perf_counter()
    kept = protect([second], [r1], snapshot="r2", seq=2)
    rows.append(_row("town x year x sex, release 2", "with history", time.perf_counter() - t0,
                     kept, [r1, *kept.releases.values()]))  # fmt: skip
    members = [member_for(agency, agency.dataset(s), frames[s]) for s in SLUGS]
    t0 = time.perf_counter()
    each = [protect([m], [], snapshot="r1", seq=1) for m in members]
    seconds = time.perf_counter() - t0
    merged = each[0]
    for other in each[1:]:
        merged.stats.update(other.stats)
        merged.releases.update(other.releases)
    rows.append(
        _row("three OCME tables", "each alone", seconds, merged, list(merged.releases.values()))
    )
    t0 = time.perf_counter()
    joint = protect(members, [], snapshot="r1", seq=1, seed=2018)
    rows.append(_row("three OCME tables", "jointly", time.perf_counter() - t0, joint,
                     list(joint.releases.values())))  # fmt: skip
    return rows
