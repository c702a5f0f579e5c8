"""`ctdata datasets`: every spec dataset with its portal id, pinned in the spec or created by the
pipeline (from the registry in the state store), and OPM's last review decision."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ctdata.cli.output import echo, echo_json
from ctdata.errors import SpecError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "datasets",
        help="list spec datasets with their portal ids (pinned or created) and review state",
        description=(
            "List every dataset of the agency specs with its portal id: pinned in the spec, or "
            "created by the pipeline on its first run and recorded in the state store "
            "(CTDATA_STATE_URL). Also shows OPM's last review decision."
        ),
    )
    p.add_argument("agency", nargs="?", help="only this agency (its code, e.g. ocme)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ctdata.lifecycle.registry import locate_all
    from ctdata.specs import load_all

    specs = load_all()
    agencies = [a for a in specs.agencies if args.agency in (None, a.code)]
    if args.agency and not agencies:
        known = ", ".join(a.code for a in specs.agencies)
        raise SpecError(f"no valid agency spec with code {args.agency!r} (agencies: {known})")
    rows = [_row(location) for location in locate_all(agencies)]
    if args.json:
        echo_json(rows)
    else:
        echo(_table(rows))
    for error in specs.errors:
        print(f"warning: skipped an invalid agency spec: {error}", file=sys.stderr)
    return 0


def _row(location: Any) -> dict[str, Any]:
    decision = location.last_decision
    review = "never reviewed"
    if decision is not None:
        review = f"{decision.decision} by {decision.reviewer} on {decision.decided_at:%Y-%m-%d}"
        if decision.decision == "rejected" and decision.reason:
            review += f": {decision.reason}"
    origin = {
        "spec": "pinned in the spec",
        "created": f"created {location.created_at:%Y-%m-%d}" if location.created_at else "created",
        "creating": "being created (the last create's answer was lost)",
        "not created": "not created yet (the next run creates it)",
    }[location.origin]
    return {
        "agency": location.agency,
        "dataset": location.slug,
        "portal_id": location.portal_id,
        "origin": origin,
        "review": review,
        "title": location.title,
    }


def _table(rows: list[dict[str, Any]]) -> str:
    header = {"agency": "agency", "dataset": "dataset", "portal_id": "portal id",
              "origin": "id from", "review": "last review"}  # fmt: skip
    lines = [header, *[{k: str(r[k] or "-") for k in header} for r in rows]]
    widths = {k: max(len(line[k]) for line in lines) for k in header}
    text = ["  ".join(line[k].ljust(widths[k]) for k in header).rstrip() for line in lines]
    text.insert(1, "  ".join("-" * widths[k] for k in header))
    return "\n".join(text)
