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
        "audit", help="print each suppressed cell's feasible interval; exit 1 if any is exposed"
    )
    aud.add_argument("--spec", required=True, type=Path)
    aud.add_argument("output", type=Path, help="published CSV (suppressed counts are empty)")
    aud.add_argument("--original", type=Path, help="the unsuppressed INPUT.csv, to show values")
    aud.add_argument(
        "--fast",
        action="store_true",
        help="stop at proof of safety: bounds may be inner ones (marked 'at least')",
    )
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
    from ctdata.disclosure.files import audit_csv

    report = audit_csv(args.spec, args.output, args.original, exact=not args.fast)
    for cell in report.cells:
        echo(cell.describe())
    if report.passed:
        echo(report.summary())
    else:
        print(report.summary(), file=sys.stderr)
    return 0 if report.passed else 1
