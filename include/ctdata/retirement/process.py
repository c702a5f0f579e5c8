"""The state's retirement process, run unattended by the agency DAG for a dataset whose spec has
a `retire:` block.

1. From the notice date: "ARCHIVE" before the title, the tag "archive", a notice in the
   description (why, when it goes, where the replacement and an archived copy are, whom to
   contact), and a row in the retired-assets register with status "mid-retirement".
2. Thirty days later: the dataset is made private and its row reads "retired".
3. A dataset published within the 7 days before the notice date may be removed at once
   (`immediate: true`); an older one gets the 30-day notice whatever the spec asks.

Every run computes the state the portal should be in on its date and writes only what differs,
so reruns and missed days are harmless. The process never goes back: once the register records
a retirement (for the same notice date) as done, a rerun for an earlier date changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctdata.errors import ConfigurationError
from ctdata.lifecycle.portal_metadata import metadata_changes
from ctdata.retirement import register as retired_assets
from ctdata.specs.models import NOTICE_DAYS, RECENT_DAYS, AgencySpec, DatasetSpec, Retirement

if TYPE_CHECKING:
    from ctdata.portal.client import SocrataClient
    from ctdata.specs.registers import RegistersConfig
    from ctdata.staging import Staging

log = logging.getLogger(__name__)

SCHEDULED = "scheduled"  # the notice date has not come yet
MID_RETIREMENT = "mid-retirement"
RETIRED = "retired"
ARCHIVE_PREFIX = "ARCHIVE: "
ARCHIVE_TAG = "archive"


@dataclass(frozen=True)
class Stage:
    """Where the process stands on a date."""

    status: str
    notice_date: dt.date
    removal_date: dt.date
    retired_date: dt.date | None = None
    warning: str | None = None


def stage_on(
    retire: Retirement,
    today: dt.date,
    published_on: dt.date | None,
    recorded: retired_assets.Recorded | None = None,
) -> Stage:
    """The process's stage on `today`, given when the dataset was first published and what the
    register already records for this retirement."""
    removal, warning = _removal_date(retire, published_on)
    done = recorded is not None and recorded.status == RETIRED
    if done and recorded.notice_date == retire.notice_date:
        return Stage(RETIRED, retire.notice_date, removal, recorded.retired_date or today)
    if today < retire.notice_date:
        return Stage(SCHEDULED, retire.notice_date, removal, warning=warning)
    if today >= removal:
        return Stage(RETIRED, retire.notice_date, removal, today, warning)
    return Stage(MID_RETIREMENT, retire.notice_date, removal, warning=warning)


def _removal_date(retire: Retirement, published_on: dt.date | None) -> tuple[dt.date, str | None]:
    if not retire.immediate:
        return retire.removal_date, None
    window = retire.notice_date - dt.timedelta(days=RECENT_DAYS)
    if published_on is not None and published_on >= window:
        return retire.notice_date, None
    when = published_on.isoformat() if published_on else "at an unknown date"
    return retire.removal_date, (
        f"'immediate' applies only to a dataset published within the {RECENT_DAYS} days before "
        f"the notice date; this one was published {when}, so it gets the {NOTICE_DAYS}-day notice"
    )


def archived_view(
    dataset: DatasetSpec, retire: Retirement, stage: Stage, administrators_email: str
) -> dict[str, Any]:
    """The title, tags and description the dataset shows while (and after) it retires."""
    meta = dataset.metadata
    tags = [*meta.tags, ARCHIVE_TAG] if ARCHIVE_TAG not in meta.tags else list(meta.tags)
    notice = notice_text(retire, stage, administrators_email)
    return {
        "name": ARCHIVE_PREFIX + meta.title,
        "tags": tags,
        "description": f"{notice}\n\n{meta.description}",
    }


def notice_text(retire: Retirement, stage: Stage, administrators_email: str) -> str:
    """The notice put at the top of the description, in plain words."""
    removal = _long_date(stage.removal_date)
    if stage.status == RETIRED:
        first = f"ARCHIVE: this dataset was retired on {_long_date(stage.retired_date)}."
    else:
        first = (
            f"ARCHIVE: this dataset is being retired. It will be removed from the portal on "
            f"{removal}: download it before then if you need it."
        )
    parts = [first, f"Reason: {retire.reason}."]
    if retire.note:
        parts.append(retire.note.strip())
    if retire.replacement:
        parts.append(f"It is replaced by {retire.replacement}")
    if retire.archived_copy:
        parts.append(f"An archived copy is kept at {retire.archived_copy}")
    parts.append(
        f"Questions: write to the portal administrators at {administrators_email}. "
        f"Notice posted on {_long_date(stage.notice_date)}."
    )
    return " ".join(parts)


def _long_date(day: dt.date | None) -> str:
    return f"{day:%B} {day.day}, {day.year}" if day else "an unknown date"


def advance_retirement(
    agency: AgencySpec,
    dataset: DatasetSpec,
    client: SocrataClient,
    *,
    today: dt.date,
    registers: RegistersConfig,
    register_client: SocrataClient | None = None,
    staging: Staging | None = None,
    run_id: str = "retirement",
) -> dict[str, Any]:
    """Bring the dataset and its register row to the state the process wants on `today`."""
    retire = dataset.retire
    if retire is None:
        raise ValueError(f"dataset {dataset.slug!r} has no retire block")
    if dataset.portal_id is None:  # neither pinned in the spec nor created by the pipeline
        raise ConfigurationError(
            f"dataset {agency.code}/{dataset.slug} has a retire block but was never created on "
            "the portal, so there is nothing to retire: remove the dataset from the spec instead"
        )
    register_client = register_client or client
    view = client.get_metadata(dataset.portal_id)
    recorded = retired_assets.read_row(register_client, registers, dataset.portal_id)
    stage = stage_on(retire, today, published_on(view), recorded)
    if stage.warning:
        log.warning("%s: %s.", dataset.slug, stage.warning)
    summary: dict[str, Any] = {
        "stage": stage.status,
        "notice_date": stage.notice_date.isoformat(),
        "removal_date": stage.removal_date.isoformat(),
        "retired_date": stage.retired_date.isoformat() if stage.retired_date else None,
        "changed_fields": [],
        "made_private": False,
        "register": None,
    }
    if stage.status == SCHEDULED:
        return summary
    wanted = archived_view(dataset, retire, stage, registers.administrators_email)
    changes = metadata_changes(view, wanted)
    if changes:
        client.update_metadata(dataset.portal_id, changes)
    summary["changed_fields"] = sorted(changes)
    row = retired_assets.row(agency, dataset, stage)
    summary["register"] = retired_assets.publish_row(
        register_client, registers, row, staging=staging, run_id=run_id
    )
    if stage.status == RETIRED and is_public(view):
        client.set_permission(dataset.portal_id, public=False)
        summary["made_private"] = True
    return summary


def published_on(view: dict[str, Any]) -> dt.date | None:
    """The day the dataset was published (the portal's publicationDate, else its creation)."""
    from ctdata.metrics.collect import local_date

    return local_date(view.get("publicationDate") or view.get("createdAt"))


def is_public(view: dict[str, Any]) -> bool:
    """Does the view carry the public viewer grant?"""
    return any("public" in (grant.get("flags") or []) for grant in view.get("grants") or [])
