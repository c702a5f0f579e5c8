"""The `ctdata` console script: the command-line front door to the library (the Airflow glue in
`ctdata.airflow` is the other one).

A module listed in SUBCOMMAND_MODULES exposes `register(subparsers)`, which adds its parser and
sets `func` (called with the parsed args, returning an exit code). These modules import their
heavy dependencies inside the command functions, so `ctdata --help` stays quick.

Scripts can rely on: results alone on stdout (`--json` is JSON and nothing else), logs on
stderr (`ctdata.cli.output`), and the exit code: 0 done, 1 done and problems found (`lint`,
`doctor`, `audit`, `publish-file` when the portal's count disagrees), 2 the command could not do
its work (the reason on stderr as `error: ...`, also for usage errors), 3 an unexpected
failure (a bug: the traceback is on stderr).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from ctdata.cli.output import configure_logging, results_on_stdout
from ctdata.errors import CtDataError

EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR, EXIT_BUG = 0, 1, 2, 3

SUBCOMMAND_MODULES = (
    "socrata_emulator.cli",
    "ctdata.cli.disclosure",
    "ctdata.cli.publish_file",
    "ctdata.cli.lint",
    "ctdata.cli.schema",
    "ctdata.cli.inventory",
    "ctdata.cli.datasets",
    "ctdata.cli.plan",
    "ctdata.cli.doctor",
    "ctdata.cli.review",
    "ctdata.cli.local",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ctdata",
        description="Publish Connecticut agencies' data to data.ct.gov.",
        epilog="Exit codes: 0 done; 1 problems found (lint, doctor, audit); 2 the command "
        "could not do its work (reason on stderr); 3 unexpected failure. Results go to "
        "stdout, logs to stderr.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="libraries' logs too")
    parser.add_argument("-q", "--quiet", action="count", default=0, help="warnings and errors only")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose - args.quiet)
    if args.command == "emulator":  # a server: its own output, as `python -m socrata_emulator`
        return _run(args)
    with results_on_stdout():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or EXIT_OK)
    except CtDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the last word on anything a command let through
        if type(exc).__name__ == "AirflowNotFoundException":  # a connection nobody defined
            print(f"error: {exc}. {MISSING_CONNECTION_FIX}", file=sys.stderr)
            return EXIT_ERROR
        traceback.print_exc()
        print("error: unexpected failure (a bug: please report it with the traceback above)",
              file=sys.stderr)  # fmt: skip
        return EXIT_BUG


MISSING_CONNECTION_FIX = (
    "Define it where the command runs (AIRFLOW_CONN_<ID> as a URI or JSON, or `airflow "
    "connections add`); for the local portal stand-in run `ctdata local start`"
)
