"""Row-level transforms: crosswalk to towns, keyed pseudonyms, small-group suppression."""

from __future__ import annotations

import pandas as pd
import pytest

from ctdata.errors import SpecError
from ctdata.specs.models import CrosswalkTransform, PseudonymizeTransform
from ctdata.transforms import crosswalk, pseudonymize


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
