"""The state's retirement process, step by step on the stand-in with the clock set to each day:
notice and register row, idempotent reruns, private after 30 days, never backwards."""

from __future__ import annotations

import datetime as dt

import pytest

from ctdata.errors import ConfigurationError, PortalRefusedError
from ctdata.lifecycle.publication import publish_frame
from ctdata.retirement.process import (
    MID_RETIREMENT,
    RETIRED,
    SCHEDULED,
    advance_retirement,
    is_public,
    stage_on,
)
from ctdata.retirement.register import Recorded, read_row
from ctdata.sources import extract
from ctdata.specs.models import Retirement

NOTICE = dt.date.today() + dt.timedelta(days=10)  # the stand-in's dataset was created today
REPLACEMENT = "https://data.ct.gov/d/abcd-1234"


def _retiring(opm, **options):
    towns = opm.dataset("towns")
    retire = Retirement(
        reason="discontinued, consolidated or replaced",
        notice_date=options.pop("notice_date", NOTICE),
        replacement=REPLACEMENT,
        note="Towns are now listed with their planning region.",
        **options,
    )
    return towns.model_copy(update={"retire": retire})


def _publish_towns(opm, client) -> None:
    towns = opm.dataset("towns")
    frame = extract(towns)
    publish_frame(opm, towns, frame, client, "first-publish")


def _advance(opm, dataset, client, registers, day: dt.date) -> dict:
    return advance_retirement(opm, dataset, client, today=day, registers=registers)


# -- the stage on each date (pure) ---------------------------------------------------------


def test_stages_by_date() -> None:
    retire = Retirement(reason="outdated", notice_date=dt.date(2025, 3, 1))
    published = dt.date(2024, 1, 1)
    assert stage_on(retire, dt.date(2025, 2, 28), published).status == SCHEDULED
    assert stage_on(retire, dt.date(2025, 3, 1), published).status == MID_RETIREMENT
    assert stage_on(retire, dt.date(2025, 3, 30), published).status == MID_RETIREMENT
    done = stage_on(retire, dt.date(2025, 3, 31), published)
    assert (done.status, done.removal_date, done.retired_date) == (
        RETIRED,
        dt.date(2025, 3, 31),
        dt.date(2025, 3, 31),
    )


def test_recently_published_may_go_at_once_and_older_gets_the_notice() -> None:
    retire = Retirement(
        reason="published by mistake", notice_date=dt.date(2025, 3, 10), immediate=True
    )
    recent = stage_on(retire, dt.date(2025, 3, 10), published_on=dt.date(2025, 3, 4))
    assert (recent.status, recent.removal_date) == (RETIRED, dt.date(2025, 3, 10))
    older = stage_on(retire, dt.date(2025, 3, 10), published_on=dt.date(2025, 3, 1))
    assert older.status == MID_RETIREMENT and older.removal_date == dt.date(2025, 4, 9)
    assert "7 days" in (older.warning or "")


def test_a_recorded_retirement_never_goes_back() -> None:
    retire = Retirement(reason="outdated", notice_date=dt.date(2025, 3, 1))
    done = Recorded(RETIRED, dt.date(2025, 3, 1), dt.date(2025, 4, 2))
    again = stage_on(retire, dt.date(2025, 3, 5), dt.date(2024, 1, 1), done)
    assert (again.status, again.retired_date) == (RETIRED, dt.date(2025, 4, 2))
    # A new retirement (another notice date, e.g. after the dataset was reinstated) starts over.
    later = retire.model_copy(update={"notice_date": dt.date(2026, 1, 1)})
    assert stage_on(later, dt.date(2026, 1, 1), dt.date(2024, 1, 1), done).status == MID_RETIREMENT


# -- the whole process on the portal -------------------------------------------------------


def test_a_dataset_never_created_has_nothing_to_retire(opm, registers, portal) -> None:
    never_created = _retiring(opm).model_copy(update={"portal_id": None})
    with portal() as client:
        registered = list(client.read_rows(registers.retired_assets.portal_id))
        with pytest.raises(ConfigurationError, match="opm/towns .* never created"):
            _advance(opm, never_created, client, registers, NOTICE)
        assert list(client.read_rows(registers.retired_assets.portal_id)) == registered


def test_the_process_day_by_day(opm, registers, portal) -> None:
    dataset = _retiring(opm)
    title = dataset.metadata.title
    with portal() as client:
        _publish_towns(opm, client)
        assert is_public(client.get_metadata(dataset.portal_id))

        before = _advance(opm, dataset, client, registers, NOTICE - dt.timedelta(days=1))
        assert before["stage"] == SCHEDULED
        assert client.get_metadata(dataset.portal_id)["name"] == title
        assert read_row(client, registers, dataset.portal_id) is None

        # Notice day: archive title, tag, notice with the dates; register row; still public.
        notice = _advance(opm, dataset, client, registers, NOTICE)
        assert notice["stage"] == MID_RETIREMENT
        assert notice["changed_fields"] == ["description", "name", "tags"]
        view = client.get_metadata(dataset.portal_id)
        removal = NOTICE + dt.timedelta(days=30)
        assert view["name"] == f"ARCHIVE: {title}"
        assert "archive" in view["tags"]
        assert view["description"].startswith("ARCHIVE: this dataset is being retired.")
        assert f"{removal:%B} {removal.day}, {removal.year}" in view["description"]
        assert REPLACEMENT in view["description"] and registers.administrators_email in view["description"]  # fmt: skip
        assert view["description"].endswith(opm.dataset("towns").metadata.description)
        assert is_public(view)
        [row] = client.read_rows(registers.retired_assets.portal_id)
        assert row["status"] == "mid-retirement"
        assert row["asset_name"] == title and row["agency"] == opm.name
        assert row["notice_date"].startswith(NOTICE.isoformat())
        assert row["removal_date"].startswith(removal.isoformat())
        assert "retired_date" not in row
        assert row["reason"] == f"discontinued, consolidated or replaced; replaced by {REPLACEMENT}"
        assert row["replacement_link"] == {"url": REPLACEMENT}  # Socrata's url type
        assert is_public(client.get_metadata(registers.retired_assets.portal_id))

        # The same day again: nothing to write.
        requests = client.stats.requests
        again = _advance(opm, dataset, client, registers, NOTICE)
        assert again["changed_fields"] == [] and again["register"]["unchanged"] == 1
        assert again["register"]["created"] == again["register"]["updated"] == 0
        assert not again["made_private"]
        assert client.stats.requests - requests < 15  # reads only, no row or metadata write

        day29 = _advance(opm, dataset, client, registers, removal - dt.timedelta(days=1))
        assert day29["stage"] == MID_RETIREMENT and is_public(client.get_metadata(dataset.portal_id))  # fmt: skip

        # Thirty days on: private, register updated.
        gone = _advance(opm, dataset, client, registers, removal)
        assert gone["stage"] == RETIRED and gone["made_private"]
        assert not is_public(client.get_metadata(dataset.portal_id))
        [row] = client.read_rows(registers.retired_assets.portal_id)
        assert row["status"] == "retired" and row["retired_date"].startswith(removal.isoformat())
        assert "was retired on" in client.get_metadata(dataset.portal_id)["description"]

        # Later runs, and a rerun of an earlier date, change nothing.
        for day in (removal + dt.timedelta(days=15), NOTICE + dt.timedelta(days=3)):
            later = _advance(opm, dataset, client, registers, day)
            assert later["stage"] == RETIRED and later["retired_date"] == removal.isoformat()
            assert later["changed_fields"] == [] and not later["made_private"]
            assert later["register"]["unchanged"] == 1

    with portal(None) as anonymous, pytest.raises(PortalRefusedError):
        anonymous.get_metadata(dataset.portal_id)


def test_recently_published_dataset_removed_at_once(opm, registers, portal) -> None:
    """The stand-in created the dataset today: with `immediate`, today's notice removes it."""
    today = dt.date.today()
    dataset = _retiring(opm, notice_date=today, immediate=True)
    with portal() as client:
        client.set_permission(dataset.portal_id, public=True)
        done = _advance(opm, dataset, client, registers, today)
        assert done["stage"] == RETIRED and done["removal_date"] == today.isoformat()
        assert done["made_private"] and not is_public(client.get_metadata(dataset.portal_id))
        assert read_row(client, registers, dataset.portal_id).status == RETIRED
