"""The OCME demo's deaths as the agency's three linked tables read them (the specs' SQL done in
pandas on the shipped records), and the attacker's tools shared by the population tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ctdata.disclosure.reference import DATA_DIR
from ctdata.specs import AgencySpec
from ctdata.specs.loader import load_agency

AGENCIES = Path(__file__).resolve().parents[2] / "include" / "agencies"
AGES = [(20, "Under 20"), (30, "20-29"), (40, "30-39"), (50, "40-49"), (60, "50-59"), (70, "60-69")]


@pytest.fixture(scope="session")
def ocme() -> AgencySpec:
    return load_agency(AGENCIES / "ocme.yaml")


def ocme_deaths() -> pd.DataFrame:
    """One row per death with the columns the three datasets' sources give (after the town
    crosswalk): year, sex, death_town, age_group."""
    raw = pd.read_csv(
        DATA_DIR / "accidental_drug_related_deaths_2012_2018.csv", encoding="utf-8-sig", dtype=str
    )
    year = pd.to_numeric(raw["Date"].str[6:10], errors="coerce")
    year = year.fillna(2000 + pd.to_numeric(raw["ID"].str[:2])).astype(int)
    age = pd.to_numeric(raw["Age"], errors="coerce")
    group = pd.Series("70 and over", index=raw.index, dtype=object)
    for limit, label in reversed(AGES):
        group[age < limit] = label
    group[age.isna()] = "Unknown"
    towns = {t.upper(): t for t in pd.read_csv(DATA_DIR / "ct_towns.csv").town}
    return pd.DataFrame(
        {
            "case_id": raw["ID"],
            "year": year,
            "sex": raw["Sex"].where(raw["Sex"].isin(["Male", "Female"]), "Unknown"),
            "death_town": raw["DeathCity"].str.strip().str.upper().map(towns).fillna("Unknown"),
            "age_group": group,
        }
    )


@pytest.fixture(scope="session")
def deaths() -> pd.DataFrame:
    return ocme_deaths()


def refreshed(deaths: pd.DataFrame, seed: int = 1) -> tuple[pd.DataFrame, tuple[str, int]]:
    """The issue's second release: one town-year cell falls from 27 to 4 (23 deaths re-coded
    to Hartford), and a few deaths first placed in a town where they were alone that year are
    re-coded to Hartford too (a corrected address), so their small cells become zero."""
    rng = np.random.default_rng(seed)
    out = deaths.copy()
    size = out.groupby(["death_town", "year"]).size()
    town, year = size[size == 27].index[0]
    rows = out.index[(out.death_town == town) & (out.year == year)][:23]
    out.loc[rows, "death_town"] = "Hartford"
    alone = size[size == 1].index
    picked = [alone[i] for i in rng.choice(len(alone), 8, replace=False)]
    for t, y in picked:
        out.loc[(out.death_town == t) & (out.year == y), "death_town"] = "Hartford"
    return out, (town, int(year))
