"""`ctdata plan AGENCY [DATASET]`: run extract, validation and suppression as the DAG does, then
print what publishing would change on the portal, sending nothing.

The portal and the sources are reached through the same connections as the DAG (the agency's
`socrata_conn_id`: `AIRFLOW_CONN_*` variables, or Airflow's own store: `ctdata.cli.connections`),
or `--portal URL` with SOCRATA_USERNAME / SOCRATA_PASSWORD / SOCRATA_APP_TOKEN. Staged files are
deleted afterwards; nothing is recorded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TYPE_CHECKING

from ctdata.cli.output import echo, echo_json
from ctdata.errors import SpecError

if TYPE_CHECKING:
    from ctdata.lifecycle.plan import DatasetPlan
    from ctdata.pipeline.run import DatasetRun


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plan",
        help="show what publishing an agency's datasets would change, sending nothing",
        description=(
            "Extract, validate and suppress each dataset of AGENCY (or only DATASET) as the DAG "
            "does, then print the rows that would be created, changed and deleted (with a few "
            "examples from the publishable table), the metadata fields that differ and the "
            "columns added or removed. Nothing is sent to the portal. Exits 2 if a step fails "
            "(the DAG would then publish nothing either)."
        ),
    )
    p.add_argument("agency", help="agency code (the spec's file name), e.g. ocme")
    p.add_argument("dataset", nargs="?", help="only this dataset (its slug)")
    p.add_argument("--portal", help="portal URL instead of the agency's Airflow connection")
    p.add_argument("--json", action="store_true", help="print the plans as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ctdata import settings
    from ctdata.cli.connections import portal_client, source_connection
    from ctdata.pipeline.run import AgencyRun, PortalClients
    from ctdata.specs.loader import read_agency

    path = settings.current().agencies_dir / f"{args.agency}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in settings.current().agencies_dir.glob("*.yaml")))
        raise SpecError(f"no agency spec {path} (agencies: {known})")
    read = read_agency(path)
    agency = read.agency
    for invalid in read.invalid:  # another dataset's typo does not stop this plan
        if args.dataset == invalid.slug:
            raise invalid.error
        print(f"warning: skipped {invalid.slug}: {invalid.error}", file=sys.stderr)
    datasets = [d for d in agency.datasets if args.dataset in (None, d.slug)]
    if not datasets:
        slugs = ", ".join(d.slug for d in agency.datasets)
        raise SpecError(f"{path}: no dataset {args.dataset!r} (datasets: {slugs})")
    run_id = f"plan-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}"
    plans = []
    with AgencyRun(
        agency=agency,
        run_id=run_id,
        portals=PortalClients(lambda conn_id: portal_client(conn_id, args.portal)),
        connections=source_connection,
        dry_run=True,
    ) as run:
        for dataset in datasets:
            plan = plan_dataset(run.dataset_run(dataset.slug))
            plans.append(plan)
            if not args.json:
                echo(plan.describe(settings.current().portal_url), end="\n\n")
    if args.json:
        echo_json([p.as_dict() for p in plans])
    return 0


def plan_dataset(run: DatasetRun) -> DatasetPlan:
    """The DAG's steps up to the publishable table, then the plan; staged files removed."""
    from ctdata.pipeline.flow import make_publishable
    from ctdata.pipeline.steps import publication_plan

    try:
        return publication_plan(run, make_publishable(run))
    finally:  # its population's other datasets were made too, to protect it with them
        for member in run.agency.population_members(run.dataset):
            run.staging.remove_run(run.agency.code, member.slug, run.run_id)
