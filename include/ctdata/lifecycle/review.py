"""Review before the public sees it: when OPM must decide, and what a decision records.

The state's process is "upload, publish private, have colleagues review, then make public".
A dataset the spec makes public waits for a reviewer's decision at its first publication and
whenever its columns change (added, removed or retyped) since the columns last approved. A
dataset that was already public with the spec's columns before reviews were required is taken
as approved, so introducing the step does not hold back every existing dataset.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ctdata.errors import CtDataError
from ctdata.lifecycle.columns import ColumnChanges, Signature, portal_signature, spec_signature
from ctdata.lifecycle.registry import DatasetRegistry, ReviewDecision

if TYPE_CHECKING:
    from ctdata.specs import AgencySpec, DatasetSpec

APPROVE, REJECT = "Approve", "Reject"  # the options a reviewer chooses from
ALREADY_PUBLIC = "already public on the portal before reviews were required"


class ReviewRejected(CtDataError):
    """An OPM reviewer rejected the publication: nothing public was changed."""


class ReviewNotGiven(CtDataError):
    """No reviewer decided in time: nothing public was changed; the next run asks again."""


@dataclass(frozen=True)
class ReviewNeed:
    """Why a reviewer must decide before publishing (no reasons: publish without review)."""

    reasons: list[str] = field(default_factory=list)
    changes: ColumnChanges = field(default_factory=ColumnChanges)
    # Public with the spec's columns but never reviewed: record it as approved, no review.
    already_public: bool = False

    def __bool__(self) -> bool:
        return bool(self.reasons)


def is_public(view: dict[str, Any]) -> bool:
    """Socrata marks a public dataset by a viewer grant flagged "public"."""
    return any("public" in (g.get("flags") or []) for g in view.get("grants") or [])


def review_need(
    agency_code: str, dataset: DatasetSpec, view: dict[str, Any], registry: DatasetRegistry
) -> ReviewNeed:
    """Does publishing `dataset` now need OPM's decision? `view` is the portal's metadata."""
    if not dataset.public:
        return ReviewNeed()  # stays private: the public sees nothing
    wanted = spec_signature(dataset)
    approval = registry.last_approval(agency_code, dataset.slug)
    if approval is not None:
        changes = ColumnChanges.between(approval.columns, wanted)
        if not changes:
            return ReviewNeed()
        since = f"since {approval.reviewer} approved them on {approval.decided_at:%Y-%m-%d}"
        return ReviewNeed([f"{line} {since}" for line in changes.describe()], changes)
    if not is_public(view):
        return ReviewNeed(["first publication"], ColumnChanges.between({}, wanted))
    changes = ColumnChanges.between(portal_signature(view), wanted)
    if not changes:
        return ReviewNeed(already_public=True)
    return ReviewNeed([f"{line} on the public dataset" for line in changes.describe()], changes)


def decision(
    agency_code: str,
    dataset: DatasetSpec,
    portal_id: str | None,
    *,
    approved: bool,
    reviewer: str,
    reason: str = "",
    run_id: str | None = None,
) -> ReviewDecision:
    """A decision on the spec's current columns, as the registry records it."""
    return ReviewDecision(
        agency=agency_code,
        slug=dataset.slug,
        portal_id=portal_id,
        decision="approved" if approved else "rejected",
        reviewer=reviewer,
        reason=reason.strip(),
        columns=spec_signature(dataset),
        decided_at=dt.datetime.now(dt.UTC),
        run_id=run_id,
    )


def approved_columns(
    agency_code: str, dataset: DatasetSpec, registry: DatasetRegistry
) -> Signature | None:
    """The columns OPM last approved for the dataset (None: never approved)."""
    approval = registry.last_approval(agency_code, dataset.slug)
    return approval.columns if approval else None


def record_prior_approval(
    agency: AgencySpec, reviewer: str, reason: str, registry: DatasetRegistry | None = None
) -> None:
    """Record that OPM already approved each of the agency's datasets as its spec stands (for
    datasets reviewed outside the pipeline, e.g. set up by hand, and for test setups)."""
    registry = registry or DatasetRegistry()
    for dataset in agency.datasets:
        registry.record_decision(
            decision(
                agency.code,
                dataset,
                dataset.portal_id,
                approved=True,
                reviewer=reviewer,
                reason=reason,
            )  # fmt: skip
        )
