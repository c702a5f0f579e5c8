"""What the failure mail says of the portal copy, for a dataset with and without a schedule."""

from __future__ import annotations

from ctdata.monitoring.alerts import portal_standing

PUBLISHED = {"finished": "2026-01-05T11:00:00+00:00"}


def test_a_dataset_without_a_schedule_is_not_said_to_be_due_dash() -> None:
    row = {"status": "not scheduled", "last_publish": PUBLISHED, "next_due": None,
           "next_due_local": "-"}  # fmt: skip
    said = portal_standing(row)
    assert said.endswith("it has no schedule.") and "due -" not in said


def test_a_scheduled_dataset_says_when_the_next_publish_is_due() -> None:
    row = {"status": "on time", "last_publish": PUBLISHED, "next_due": "2099-01-01T11:00:00+00:00",
           "next_due_local": "2099-01-01 06:00 EST"}  # fmt: skip
    assert portal_standing(row).endswith("the next is due 2099-01-01 06:00 EST.")
