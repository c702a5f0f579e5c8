"""`ctdata inventory --out DIR`: the High Value Data Inventory and the Open Data Access Plans as
spreadsheets, from the specs, the portal catalog and the usage metrics."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from ctdata.cli.output import echo


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "inventory",
        help="write the High Value Data Inventory and Open Data Access Plan spreadsheets",
        description=(
            "Build the yearly High Value Data Inventory and the Open Data Access Plans of every "
            "agency with a spec, from the specs, the portal catalog and the usage metrics "
            "store, and write them as .xlsx workbooks (a Summary sheet and one sheet per "
            "agency). Late plan items are flagged. Credentials for private datasets come from "
            "SOCRATA_USERNAME, SOCRATA_PASSWORD and SOCRATA_APP_TOKEN, or --conn-id. With "
            "--publish, also publish the inventory, plans and data officers to the portal (the "
            "yearly `inventories` DAG does this)."
        ),
    )
    p.add_argument("--out", type=Path, required=True, help="folder for the spreadsheets")
    p.add_argument("--portal", default=None, help="portal URL (default: CTDATA_PORTAL_URL)")
    p.add_argument("--conn-id", default=None, help="Airflow connection id for credentials")
    p.add_argument("--date", type=dt.date.fromisoformat, default=None, help="as of (today)")
    p.add_argument("--publish", action="store_true", help="also publish the tables")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ctdata.cli.connections import portal_client
    from ctdata.inventory import job
    from ctdata.metrics.history import UsageHistory
    from ctdata.specs.registers import load_registers_config

    registers = load_registers_config()
    on = args.date or dt.date.today()
    with portal_client(args.conn_id, None if args.conn_id else args.portal) as client:
        inventory = job.build(client, on, store=UsageHistory())
        paths = job.write(inventory, args.out, registers)
        if args.publish:
            job.publish(inventory, client, registers, run_id=f"cli-{on.isoformat()}")
    late = sum(r["status"] == "Late" for r in inventory.plan)
    echo(
        f"{len(inventory.agencies)} agencies, {len(inventory.high_value)} datasets inventoried, "
        f"{len(inventory.plan)} access plan items ({late} late)."
    )
    for path in paths:
        echo(f"Wrote {path}")
    return 0
