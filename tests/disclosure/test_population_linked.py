"""Protection across tables: the OCME demo's three tables about the same deaths (by town, year
and sex; by age group and year; de-identified records), attacked together.

The attacks the issue describes are written out as an outsider would run them on the published
tables, besides the attacker model's LP audit (`assess`): subtracting the records shown for a
(year, age group) from the by-age table, and for a (year, sex) from the by-town table's totals.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ctdata.disclosure.assess import assess
from ctdata.disclosure.joint import protect
from ctdata.disclosure.published import count_table_release, records_release
from ctdata.pipeline.protection import member_for, records_rule

THRESHOLD = 5


def members(ocme, deaths: pd.DataFrame) -> dict:  # noqa: ANN001
    return {
        slug: member_for(ocme, ocme.dataset(slug), deaths)
        for slug in ("deaths_by_town", "deaths_by_age", "deaths_records")
    }


def published(ocme, parts: dict, masks: dict) -> dict[str, pd.DataFrame]:  # noqa: ANN001
    return {slug: m.publish(masks[slug]) for slug, m in parts.items()}


def alone(parts: dict) -> dict:
    """Each table protected on its own, as the pipeline did before populations."""
    out = {}
    for slug, m in parts.items():
        result = protect([m], [], snapshot="r1", seq=1)
        out[slug] = result.masks[m.table]
    return out


def joint(parts: dict) -> tuple[dict, object]:
    result = protect(list(parts.values()), [], snapshot="r1", seq=1, seed=2018)
    return {slug: result.masks[m.table] for slug, m in parts.items()}, result


def differencing(tables: dict[str, pd.DataFrame], label: str) -> list[tuple]:
    """Groups of 1..5 people an outsider isolates by subtracting the records shown from the
    aggregated tables' published counts."""
    records = tables["deaths_records"]
    shown_age = records[records.age_group != label].groupby(["year", "age_group"]).size()
    shown_sex = records[records.sex != label].groupby(["year", "sex"]).size()
    found = []
    by_age = tables["deaths_by_age"].dropna(subset=["deaths"])
    for row in by_age[(by_age.age_group != "Total") & (by_age.year != "Total")].itertuples():
        left = int(row.deaths) - int(shown_age.get((int(row.year), row.age_group), 0))
        if 1 <= left <= THRESHOLD:
            found.append(("by age", row.year, row.age_group, left))
    by_town = tables["deaths_by_town"].dropna(subset=["deaths"])
    totals = by_town[
        (by_town.town == "Total") & (by_town.year != "Total") & (by_town.sex != "Total")
    ]
    for row in totals.itertuples():
        left = int(row.deaths) - int(shown_sex.get((int(row.year), row.sex), 0))
        if 1 <= left <= THRESHOLD:
            found.append(("by town", row.year, row.sex, left))
    return found


@pytest.fixture(scope="module")
def parts(ocme, deaths):  # noqa: ANN001, ANN201
    return members(ocme, deaths)


@pytest.fixture(scope="module")
def protected(parts):  # noqa: ANN001, ANN201
    return joint(parts)


def test_tables_protected_alone_give_small_groups_away_together(ocme, parts) -> None:
    masks = alone(parts)
    tables = published(ocme, parts, masks)
    found = differencing(tables, records_rule(ocme.dataset("deaths_records")).label)
    assert any(kind == "by age" for kind, *_ in found), found
    assert any(kind == "by town" for kind, *_ in found), found
    releases = [m.release("r1", 1, masks[s]) for s, m in parts.items()]
    assert all(assess([r]).passed for r in releases)  # each table is safe on its own
    assert not assess(releases).passed


def test_joint_protection_leaves_nothing_to_subtract(ocme, parts, protected) -> None:
    masks, result = protected
    assert result.report.passed
    tables = published(ocme, parts, masks)
    assert differencing(tables, records_rule(ocme.dataset("deaths_records")).label) == []
    assert assess(list(result.releases.values())).passed


def test_the_public_sees_exactly_what_was_audited(ocme, parts, protected) -> None:
    """Read back as an outsider would (blank counts, records counted by their labels), each
    published table is the release the engine audited."""
    masks, result = protected
    tables = published(ocme, parts, masks)
    rule = records_rule(ocme.dataset("deaths_records"))
    domains = {d.column: d.domain() for s in ("deaths_by_town", "deaths_by_age")
               for d in ocme.dataset(s).aggregation.dimensions}  # fmt: skip
    reread = {
        "deaths_by_town": count_table_release(
            tables["deaths_by_town"],
            ocme.dataset("deaths_by_town").aggregation,
            "ocme.deaths_by_town",
            "r1",
            1,
        ),
        "deaths_by_age": count_table_release(
            tables["deaths_by_age"],
            ocme.dataset("deaths_by_age").aggregation,
            "ocme.deaths_by_age",
            "r1",
            1,
        ),
        "deaths_records": records_release(
            tables["deaths_records"], rule, domains, "ocme.deaths_records", "r1", 1
        ),
    }
    for slug, m in parts.items():
        assert reread[slug].shows_same(result.releases[m.table]), slug
    assert assess(list(reread.values())).passed


def test_records_keep_their_detail_where_nothing_needs_hiding(protected) -> None:
    """The utility the joint protection costs, bounded: most records keep age group and sex."""
    _, result = protected
    stats = result.stats["ocme.deaths_records"]
    assert stats["records_removed"] <= 20
    assert stats["records_unchanged"] >= 0.9 * 5105
