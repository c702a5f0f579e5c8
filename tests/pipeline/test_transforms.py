"""Row-level transforms: crosswalk to towns, keyed pseudonyms, small-group suppression."""

from __future__ import annotations

import pandas as pd
import pytest

from ctdata.errors import SpecError
from ctdata.specs.models import CrosswalkTransform, PseudonymizeTransform, SmallGroupTransform
from ctdata.transforms import crosswalk, pseudonymize, suppress_small_groups


def test_crosswalk_maps_villages_and_misspellings_and_counts_the_rest_as_unknown() -> None:
    frame = pd.DataFrame({"place": ["COS COB", "storrs ", "NEW CANNAN", "Hartford", "06340", None]})
    spec = CrosswalkTransform(
        kind="crosswalk",
        column="place",
        output="town",
        crosswalk="ct_town_crosswalk.csv",
        domain="ct_towns.csv",
    )
    towns = crosswalk(frame, spec)["town"].tolist()
    assert towns == ["Greenwich", "Mansfield", "New Canaan", "Hartford", "Unknown", "Unknown"]


def test_pseudonyms_are_keyed_stable_and_need_the_key(monkeypatch) -> None:
    frame = pd.DataFrame({"case": ["14-0273", "13-0102"]})
    spec = PseudonymizeTransform(kind="pseudonymize", column="case", output="rid", key_env="K")
    monkeypatch.setenv("K", "one")
    first = pseudonymize(frame, spec, "here")["rid"].tolist()
    assert first == pseudonymize(frame, spec, "here")["rid"].tolist()
    assert all(len(v) == 16 and v not in ("14-0273", "13-0102") for v in first)
    monkeypatch.setenv("K", "two")
    assert pseudonymize(frame, spec, "here")["rid"].tolist() != first
    monkeypatch.delenv("K")
    with pytest.raises(SpecError, match="environment variable K"):
        pseudonymize(frame, spec, "here")


def test_small_groups_are_generalized_then_removed() -> None:
    rows = (
        [("2012", "30-39", "Male")] * 7  # large enough: untouched
        + [("2012", "70 and over", "Male")] * 2  # joins other small Male groups of 2012
        + [("2012", "Under 20", "Male")] * 4
        + [("2012", "60-69", "Female")] * 3  # still alone with age, then sex, suppressed: removed
        + [("2013", "20-29", "Female")] * 1  # nothing to merge with: removed
    )
    frame = pd.DataFrame(rows, columns=["year", "age_group", "sex"])
    spec = SmallGroupTransform(
        kind="suppress_small_groups",
        quasi_identifiers=["year", "age_group", "sex"],
        generalize=["age_group", "sex"],
        k=6,
    )
    out = suppress_small_groups(frame, spec, "here")
    sizes = out.groupby(["year", "age_group", "sex"]).size()
    assert sizes.min() >= 6
    assert sizes[("2012", "30-39", "Male")] == 7
    assert sizes[("2012", "Suppressed", "Male")] == 6
    assert "2013" not in set(out["year"])
    assert len(out) == 13  # the 3 Female rows of 2012 stay alone even with both suppressed
