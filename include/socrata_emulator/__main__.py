"""`python -m socrata_emulator emulator ...`: the `ctdata emulator` command without the other
subcommands' imports (pandas, scipy), so test servers start in well under a second."""

from __future__ import annotations

import argparse
import sys

from ctdata.errors import CtDataError
from socrata_emulator.cli import register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ctdata")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CtDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
