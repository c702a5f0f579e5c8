"""The release history in the state store: recorded once, read back whole, refused when unsafe."""

from __future__ import annotations

import pandas as pd
import pytest

from ctdata.disclosure import AggregationSpec, aggregate
from ctdata.disclosure.history import ReleaseHistory
from ctdata.disclosure.joint import protect
from ctdata.disclosure.members import AggregateMember
from ctdata.errors import DisclosureError
from ctdata.store import create_store_engine
from tests.disclosure.support import refreshed

SPEC = AggregationSpec.model_validate(
    {
        "count_column": "deaths",
        "threshold": 5,
        "dimensions": [
            {"column": "town", "source": "death_town",
             "reference": {"path": "ct_towns.csv", "column": "town"}, "missing_label": "Unknown"},
            {"column": "year", "range": {"start": 2012, "stop": 2018}},
        ],
    }
)  # fmt: skip


def member(frame: pd.DataFrame, seed: int = 0) -> AggregateMember:
    spec = SPEC.model_copy(update={"seed": seed})
    return AggregateMember("health.deaths_by_town", spec, aggregate(frame, spec))


@pytest.fixture
def history(store_url: str) -> ReleaseHistory:
    return ReleaseHistory(create_store_engine(store_url))


def test_releases_come_back_in_order_with_their_truth(history, deaths) -> None:
    first = member(deaths)
    r1 = protect([first], [], snapshot="run-1", seq=1).releases[first.table]
    assert history.record("health.deaths", r1)
    assert not history.record("health.deaths", r1)  # a retry records nothing twice
    second = member(refreshed(deaths)[0])
    seq = history.next_seq("health.deaths", "run-2")
    r2 = protect([second], [r1], snapshot="run-2", seq=seq).releases[second.table]
    assert history.record("health.deaths", r2)
    kept = history.releases("health.deaths")
    assert [r.snapshot for r in kept] == ["run-1", "run-2"]
    assert kept[0].fingerprint() == r1.fingerprint()
    assert kept[1].cells["truth"].equals(r2.cells["truth"])


def test_an_unchanged_refresh_adds_no_release(history, deaths) -> None:
    first = member(deaths)
    r1 = protect([first], [], snapshot="run-1", seq=1).releases[first.table]
    history.record("health.deaths", r1)
    again = protect([first], [r1], snapshot="run-2", seq=2).releases[first.table]
    assert again.shows_same(r1)
    assert not history.record("health.deaths", again)
    assert len(history.releases("health.deaths")) == 1


def test_the_gate_refuses_a_release_unsafe_with_the_history(history, deaths) -> None:
    """A release protected without the history (another run, another seed) is refused by the
    audit run under the lock, and nothing is recorded."""
    from ctdata.disclosure.assess import assess

    first = member(deaths)
    r1 = protect([first], [], snapshot="run-1", seq=1).releases[first.table]
    history.record("health.deaths", r1)
    blind = member(refreshed(deaths)[0], seed=7)
    r2 = protect([blind], [], snapshot="run-2", seq=2).releases[blind.table]

    with pytest.raises(DisclosureError, match="joint audit FAILED"):
        history.record("health.deaths", r2)
    assert len(history.releases("health.deaths")) == 1
    assert not assess([r1, r2]).passed


def test_audits_are_kept_per_set_of_releases(history, deaths) -> None:
    first = member(deaths)
    r1 = protect([first], [], snapshot="run-1", seq=1).releases[first.table]
    verdict = history.verdict([r1])
    assert verdict.passed and "1 releases" in verdict.headline
    history.remember([r1], type(verdict)(False, "poisoned"))  # a kept verdict is not replaced
    assert history.verdict([r1]).passed
