"""The OCME demo's deaths as the agency's three linked tables read them (the specs' SQL done in
pandas on the shipped records), and the attacker's tools shared by the population tests."""

from __future__ import annotations

from pathlib import Path

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
