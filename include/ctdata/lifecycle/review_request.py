"""What an OPM reviewer reads before deciding (Markdown, shown in Airflow's required actions):
title, description, why the review, the columns, the row count, the disclosure summary and a
sample of the rows exactly as they would be published (aggregated or de-identified)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctdata.specs.models import PseudonymizeTransform, SmallGroupTransform

if TYPE_CHECKING:
    import pandas as pd

    from ctdata.lifecycle.review import ReviewNeed
    from ctdata.specs import AgencySpec, DatasetSpec

SAMPLE_ROWS = 10


@dataclass(frozen=True)
class ReviewRequest:
    subject: str
    body: str


def review_request(
    agency: AgencySpec,
    dataset: DatasetSpec,
    portal_link: str,
    need: ReviewNeed,
    publishable: pd.DataFrame,
    prepared: dict[str, Any],
    validation: dict[str, Any] | None = None,
) -> ReviewRequest:
    """The subject and Markdown body of the review of `dataset`'s publication.

    `publishable` is the staged table the publish task would send, `prepared` the summary of the
    step that made it (aggregate_and_suppress or prepare_records), `validation` the summary of
    its publishable suites."""
    meta = dataset.metadata
    sections = [
        f"**{meta.title}** — {agency.name}",
        meta.description,
        f"Why this review: {'; '.join(need.reasons)}. Until you approve, the dataset stays "
        f"private ([{portal_link}]({portal_link})); Reject (with a reason) changes nothing "
        "public.",
        "### Columns\n" + _columns_table(dataset, need),
        f"### Rows\n{len(publishable):,} rows would be published.",
        "### Disclosure control\n" + disclosure_summary(dataset, publishable, prepared),
    ]
    if validation is not None:
        sections.append("### Validation\n" + _validation_line(validation))
    sections.append("### Sample of the rows as published\n" + sample_table(publishable))
    subject = f"Review before publication: {meta.title}"
    return ReviewRequest(subject=subject, body="\n\n".join(sections))


def _columns_table(dataset: DatasetSpec, need: ReviewNeed) -> str:
    changes = need.changes
    retyped = {f: f"retyped ({before} to {after})" for f, before, after in changes.retyped}
    marks = {**dict.fromkeys(changes.added, "added"), **retyped}
    if set(changes.added) == set(dataset.field_names):
        marks = {}  # a first publication: every column is new, none is a change
    lines = ["| Column | Field | Type | Description | Change |", "|---|---|---|---|---|"]
    for c in dataset.columns:
        lines.append(f"| {_cell(c.name)} | `{c.field}` | {c.type} | {_cell(c.description)} | "
                     f"{marks.get(c.field, '')} |")  # fmt: skip
    for field_name in changes.removed:
        lines.append(f"| | `{field_name}` | | | removed |")
    return "\n".join(lines)


def disclosure_summary(
    dataset: DatasetSpec, publishable: pd.DataFrame, prepared: dict[str, Any]
) -> str:
    """How the published rows protect the people behind them, in words."""
    spec = dataset.aggregation
    joint = _joint_line(prepared)
    if spec is not None:
        dims = ", ".join(d.column for d in spec.dimensions)
        audit = "passed" if prepared.get("audit_passed") else "FAILED"
        return (
            f"Counts of records by {dims}, with every total. Counts from 1 to {spec.threshold} "
            f"are suppressed: {prepared.get('cells_suppressed', 0):,} cells withheld "
            f"({prepared.get('primary', 0):,} small counts, {prepared.get('sticky', 0):,} kept "
            f"hidden from earlier releases and {prepared.get('complementary', 0):,} "
            "complementary cells, so that none can be worked out from the totals, the "
            f"agency's linked tables or earlier releases; linear-programming audit {audit})."
            f"{joint}"
        )
    lines = []
    for t in dataset.transforms:
        if isinstance(t, PseudonymizeTransform):
            lines.append(f"- `{t.column}` replaced by an anonymous keyed hash in `{t.output}`")
        elif isinstance(t, SmallGroupTransform):
            lines.append(_small_groups_line(t, publishable))
    if not lines:
        return (
            "Published row by row with no aggregation or de-identification: the spec declares "
            "no personal data in this source."
        )
    dropped = sorted({c for t in dataset.transforms if t.kind == "drop" for c in t.columns})
    if dropped:
        lines.append(f"- source columns not published: {', '.join(dropped)}")
    return "Record-level rows, de-identified:\n" + "\n".join(lines) + joint


def _joint_line(prepared: dict[str, Any]) -> str:
    """The attacker model's verdict over the population and every release (counts only)."""
    audit = prepared.get("joint_audit")
    if not audit:
        return ""
    return f"\nPopulation {prepared.get('population')}: {audit}."


def _small_groups_line(t: SmallGroupTransform, publishable: pd.DataFrame) -> str:
    present = [c for c in t.generalize if c in publishable.columns]
    generalized = int(publishable[present].eq(t.label).any(axis=1).sum()) if present else 0
    return (
        f"- no row stands for fewer than {t.k} people sharing "
        f"{', '.join(t.quasi_identifiers)}: {generalized:,} rows read '{t.label}' in "
        f"{', '.join(t.generalize)} (small groups, and larger ones where the linked tables "
        "would otherwise give a small group away); rows still in smaller groups are left out"
    )


def _validation_line(validation: dict[str, Any]) -> str:
    suites = ", ".join(s["name"] for s in validation.get("suites") or []) or "none"
    if validation.get("success"):
        return f"All {validation.get('evaluated', 0)} expectations passed (suites: {suites})."
    return f"{validation.get('failed')} expectations FAILED (suites: {suites})."


def sample_table(frame: pd.DataFrame, rows: int = SAMPLE_ROWS) -> str:
    """Rows spread evenly over the table (blank cells are suppressed or empty values)."""
    if frame.empty:
        return "(no rows)"
    step = max(1, len(frame) // rows)
    sample = frame.iloc[::step].head(rows)
    lines = ["| " + " | ".join(map(str, sample.columns)) + " |",
             "|" + "---|" * len(sample.columns)]  # fmt: skip
    for record in sample.astype(object).itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in record) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).replace("|", "\\|").replace("\n", " ")
