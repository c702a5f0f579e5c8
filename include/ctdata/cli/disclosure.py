"""`ctdata suppress` and `ctdata audit`: argument parsing and printing around
`ctdata.disclosure.files`, where the work is done."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ctdata.cli.output import echo


def register(subparsers: argparse._SubParsersAction) -> None:
    sup = subparsers.add_parser(
        "suppress", help="suppress small cells of a table with margins, proven safe by LP audit"
    )
    sup.add_argument("--spec", required=True, type=Path, help="SPEC.yaml (dimensions, counts, ...)")
    sup.add_argument("input", type=Path, help="INPUT.csv: every cell, margin rows included")
    sup.add_argument("-o", "--output", required=True, type=Path, help="OUTPUT.csv to write")
    sup.set_defaults(func=run_suppress)
    aud = subparsers.add_parser(
        "audit",
        help="audit what is published: one table (--spec CSV) or everything an agency published "
        "(--agency); print what an attacker can work out; exit 1 if anything is disclosed",
        description=(
            "With --spec and a CSV: each suppressed cell's feasible interval in that table. "
            "With --agency: the attacker model of ctdata/disclosure/README.md on the agency's "
            "published tables (read from the portal), their earlier releases kept in --history "
            "DIR (DIR/<release>/<portal id or slug>.csv, one folder per release, in name order) "
            "and the releases the pipeline recorded in the state store; every disclosed cell or "
            "group is printed with its interval."
        ),
    )
    aud.add_argument("--spec", type=Path, help="SPEC.yaml of one table (with OUTPUT.csv)")
    aud.add_argument(
        "output", type=Path, nargs="?", help="published CSV (suppressed counts are empty)"
    )
    aud.add_argument("--original", type=Path, help="the unsuppressed INPUT.csv, to show values")
    aud.add_argument(
        "--fast",
        action="store_true",
        help="stop at proof of safety: bounds may be inner ones (marked 'at least')",
    )
    aud.add_argument("--agency", help="audit everything this agency published (its code)")
    aud.add_argument("--portal", help="portal URL (default: the agency's Socrata connection)")
    aud.add_argument("--history", type=Path, help="folder of earlier releases' CSV exports")
    aud.set_defaults(func=run_audit)


def run_suppress(args: argparse.Namespace) -> int:
    from ctdata.disclosure.files import suppress_csv

    result = suppress_csv(args.spec, args.input, args.output)
    echo(
        f"{args.output}: {result.primary} primary and {result.complementary} complementary "
        f"cells suppressed; {result.audit.headline()}"
    )
    return 0


def run_audit(args: argparse.Namespace) -> int:
    from ctdata.errors import ConfigurationError

    if args.agency:
        if args.spec or args.output:
            raise ConfigurationError("give either --agency or --spec with a CSV, not both")
        return run_agency_audit(args)
    if not (args.spec and args.output):
        raise ConfigurationError("give --spec SPEC.yaml and the published CSV, or --agency")
    from ctdata.disclosure.files import audit_csv

    report = audit_csv(args.spec, args.output, args.original, exact=not args.fast)
    for cell in report.cells:
        echo(cell.describe())
    if report.passed:
        echo(report.summary())
    else:
        print(report.summary(), file=sys.stderr)
    return 0 if report.passed else 1


def run_agency_audit(args: argparse.Namespace) -> int:
    from ctdata import settings
    from ctdata.disclosure.history import ReleaseHistory
    from ctdata.lifecycle.registry import resolve_portal_id
    from ctdata.pipeline.public_audit import audit_agency
    from ctdata.portal.client import SocrataClient
    from ctdata.portal.connection import portal_connection
    from ctdata.specs.loader import load_agency_code
    from ctdata.store import create_store_engine

    agency = load_agency_code(args.agency)
    portal_ids = {d.slug: resolve_portal_id(agency.code, d) for d in agency.datasets}
    recorded = ReleaseHistory(create_store_engine(settings.current().state_url))
    connection = portal_connection(args.portal, agency.socrata_conn_id)
    with SocrataClient(connection) as client:
        audits = audit_agency(agency, portal_ids, client, args.history, recorded)
    disclosed = 0
    for audit in audits:
        verdict = audit.assessment
        echo(f"{audit.population} ({', '.join(audit.tables)}):")
        for note in audit.notes:
            echo(f"  note: {note}")
        if verdict is None:
            echo("  nothing published yet")
            continue
        for line in verdict.assumptions:
            echo(f"  assuming {line}")
        echo(f"  {verdict.headline()}")
        for found in verdict.disclosures:
            echo(f"  DISCLOSED {found.describe()}")
        disclosed += len(verdict.disclosures)
    return 1 if disclosed else 0
