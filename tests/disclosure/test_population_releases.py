"""Protection over time: a town x year table published twice, attacked with both releases.

The attacker (README "Attacker model") keeps release 1 and holds every cell whose true value
did not change equal in both. Suppressing each release from scratch, as the pipeline did
before populations had a history, gives small counts away; the engine with the history does not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctdata.disclosure import AggregationSpec, aggregate
from ctdata.disclosure.assess import assess
from ctdata.disclosure.joint import protect
from ctdata.disclosure.members import AggregateMember
from tests.disclosure.support import refreshed

SPEC = AggregationSpec.model_validate(
    {
        "count_column": "deaths",
        "threshold": 5,
        "protection": "interval",
        "seed": 2018,
        "dimensions": [
            {
                "column": "town",
                "source": "death_town",
                "reference": {"path": "ct_towns.csv", "column": "town"},
                "missing_label": "Unknown",
            },
            {"column": "year", "range": {"start": 2012, "stop": 2018}},
        ],
    }
)


def member(frame: pd.DataFrame, seed: int = 2018) -> AggregateMember:
    """The table as a member; `seed` breaks ties between equally good complements (the state's
    rule 2 breaks them at random, so a run from scratch may choose others)."""
    spec = SPEC.model_copy(update={"seed": seed})
    return AggregateMember("health.deaths_by_town", spec, aggregate(frame, spec))


@pytest.fixture(scope="module")
def releases(deaths: pd.DataFrame):  # noqa: ANN201
    second, changed = refreshed(deaths)
    return member(deaths), member(second, seed=7), changed


def test_each_release_suppressed_from_scratch_is_safe_alone_but_not_together(releases) -> None:
    first, second, (town, year) = releases
    r1 = protect([first], [], snapshot="r1", seq=1).releases[first.table]
    r2 = protect([second], [], snapshot="r2", seq=2).releases[second.table]
    assert assess([r1]).passed and assess([r2]).passed
    # the differencing attack: cells release 1 suppressed and release 2 publishes unchanged
    same = r1.cells["truth"].to_numpy() == r2.cells["truth"].to_numpy()
    opened = same & r1.cells["shown"].isna().to_numpy() & r2.cells["shown"].notna().to_numpy()
    assert opened.any()
    attack = assess([r1, r2])
    assert not attack.passed
    small = [d for d in attack.disclosures if d.upper <= SPEC.threshold]
    assert small, attack.disclosures[:3]
    moved = r2.cells[(r2.cells.town == town) & (r2.cells.year == str(year))]
    assert moved["truth"].iloc[0] == 4 and np.isnan(moved["shown"].iloc[0])
    new_cell = f"[town={town}, year={year}] (release of r2)"
    solved = [d for d in attack.disclosures if new_cell in d.group]
    assert solved and (solved[0].lower, solved[0].upper) == (4, 4)  # the new small cell, exactly


def test_the_engine_keeps_release_one_protected(releases) -> None:
    first, second, _ = releases
    p1 = protect([first], [], snapshot="r1", seq=1)
    r1 = p1.releases[first.table]
    p2 = protect([second], [r1], snapshot="r2", seq=2)
    r2 = p2.releases[second.table]
    assert p2.report.passed
    assert assess([r1, r2]).passed
    same = r1.cells["truth"].to_numpy() == r2.cells["truth"].to_numpy()
    opened = same & r1.cells["shown"].isna().to_numpy() & r2.cells["shown"].notna().to_numpy()
    assert not opened.any()  # sticky: nothing release 1 hid is shown unchanged
    assert p2.stats[second.table]["sticky"] > 0


def test_the_cost_of_protection_over_time_is_measured(releases) -> None:
    """Cells suppressed in release 2 with the history, against from scratch (unsafe): the
    figure bench/suppression.py prints; here only that both are computed and comparable."""
    first, second, _ = releases
    r1 = protect([first], [], snapshot="r1", seq=1).releases[first.table]
    with_history = protect([second], [r1], snapshot="r2", seq=2).stats[second.table]
    alone = protect([second], [], snapshot="r2", seq=2).stats[second.table]
    assert with_history["primary"] == alone["primary"]
    assert with_history["cells_suppressed"] >= with_history["primary"]
