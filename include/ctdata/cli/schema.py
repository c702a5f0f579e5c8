"""`ctdata schema`: write the JSON Schema of an agency spec (for editors)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ctdata.cli.output import echo


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "schema",
        help="write the JSON Schema of an agency spec, for editors to check and complete specs",
        description=(
            "Write the JSON Schema of an agency spec, generated from the spec models. Specs "
            "point to it with the line '# yaml-language-server: $schema=agency-spec.schema.json' "
            "so that an editor with a YAML language server checks and completes them."
        ),
    )
    p.add_argument(
        "--out", type=Path, default=None, help="file to write (default: beside the agency specs)"
    )
    p.add_argument("--stdout", action="store_true", help="print the schema instead")
    p.add_argument(
        "--reference", action="store_true", help="print the README's field reference (Markdown)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ctdata.specs.schema import schema_text, write_schema

    if args.reference:
        from ctdata.specs.reference import reference_markdown

        echo(reference_markdown())
        return 0
    if args.stdout:
        echo(schema_text(), end="")
        return 0
    echo(f"Wrote {write_schema(args.out)}")
    return 0
