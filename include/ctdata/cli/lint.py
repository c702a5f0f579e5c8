"""`ctdata lint [SPEC...]`: check specs against the state's metadata guidelines."""

from __future__ import annotations

import argparse
from pathlib import Path

from ctdata.cli.output import echo, echo_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "lint",
        help="check specs against the state's metadata guidelines (every problem at once)",
        description=(
            "Check agency specs (and the usage metrics and registers configs) against the CT "
            "Open Data Portal's metadata standard: required fields, vocabularies, plain titles "
            "and descriptions, explained acronyms, person-first language, column names and "
            "descriptions, field names, contact and license. Prints one line per problem "
            "(file: dataset: field: what to fix) and exits 1 when there is any. Without SPEC, "
            "checks every spec of the project."
        ),
    )
    p.add_argument("specs", nargs="*", metavar="SPEC", help="spec files (default: all)")
    p.add_argument("--json", action="store_true", help="print the problems as JSON")
    p.add_argument(
        "--fast",
        action="store_true",
        help="check that suites exist and are JSON, without building them in Great Expectations "
        "(about 10 s less; the full check is the default and what `make test` runs)",
    )
    p.set_defaults(func=run)


def project_specs() -> list[Path]:
    """The project's specs: every agency spec, the usage metrics config, the registers."""
    from ctdata import settings
    from ctdata.metrics.config import config_path

    current = settings.current()
    agencies = sorted(current.agencies_dir.glob("*.yaml"))
    return [*agencies, config_path(), current.registers_config]


def config_models() -> dict:
    """The configs of generated datasets, by a top-level key of each (see ctdata.specs.lint)."""
    from ctdata.metrics.config import MetricsConfig
    from ctdata.specs.registers import RegistersConfig

    return {"usage_dataset": MetricsConfig, "retired_assets": RegistersConfig}


def run(args: argparse.Namespace) -> int:
    from ctdata.specs.lint import lint_paths

    targets = [Path(s) for s in args.specs] or project_specs()
    report = lint_paths(
        (_shown(t) for t in targets), configs=config_models(), load_suites=not args.fast
    )
    if args.json:
        echo_json([vars(p) for p in report.problems])
    else:
        for problem in report.problems:
            echo(str(problem))
        echo(report.summary())
    return 0 if report.ok else 1


def _shown(path: Path) -> Path:
    """Paths under the current folder are shown relative to it."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path
