"""The `ctdata` console script: the command-line front door to the library (the Airflow glue in
`ctdata.airflow` is the other one).

A module listed in SUBCOMMAND_MODULES exposes `register(subparsers)`, which adds its parser and
sets `func` (called with the parsed args, returning an exit code). These modules import their
heavy dependencies inside the command functions, so `ctdata --help` stays quick.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ctdata.errors import CtDataError

SUBCOMMAND_MODULES = (
    "socrata_emulator.cli",
    "ctdata.cli.disclosure",
    "ctdata.cli.publish_file",
    "ctdata.cli.lint",
    "ctdata.cli.schema",
    "ctdata.cli.inventory",
    "ctdata.cli.datasets",
    "ctdata.cli.plan",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ctdata", description="Publish Connecticut agencies' data to data.ct.gov."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CtDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
