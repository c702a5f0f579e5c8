"""`ctdata suppress` and `ctdata audit`: disclosure control on a CSV holding every cell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ctdata.errors import DisclosureError

if TYPE_CHECKING:
    import pandas as pd


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


def read_csv(path: Path) -> pd.DataFrame:
    """Read every column as text so labels like '01' or 'Total' survive untouched."""
    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except OSError as exc:
        raise DisclosureError(f"{path}: cannot read ({exc.strerror})") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DisclosureError(f"{path}: not a readable CSV ({exc})") from exc


def _prefixed(path: Path, exc: DisclosureError) -> DisclosureError:
    return DisclosureError(f"{path}: {exc}")


def run_suppress(args: argparse.Namespace) -> int:
    from ctdata.disclosure.spec import SuppressionSpec
    from ctdata.disclosure.suppression import suppress

    spec = SuppressionSpec.from_yaml(args.spec)
    table = read_csv(args.input)
    try:
        result = suppress(table, spec)
    except DisclosureError as exc:
        raise _prefixed(args.input, exc) from exc
    result.table.to_csv(args.output, index=False)
    print(
        f"{args.output}: {result.primary} primary and {result.complementary} complementary "
        f"cells suppressed; {result.audit.summary().splitlines()[0]}"
    )
    return 0


def run_audit(args: argparse.Namespace) -> int:
    from ctdata.disclosure.audit import audit_published
    from ctdata.disclosure.spec import SuppressionSpec

    spec = SuppressionSpec.from_yaml(args.spec)
    table = read_csv(args.output)
    original = read_csv(args.original) if args.original else None
    try:
        report = audit_published(table, spec, original, exact_intervals=not args.fast)
    except DisclosureError as exc:
        raise _prefixed(args.output, exc) from exc
    for cell in report.cells:
        print(cell.describe())
    print(report.summary(), file=sys.stdout if report.passed else sys.stderr)
    return 0 if report.passed else 1
