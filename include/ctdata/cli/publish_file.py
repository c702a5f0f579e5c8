"""`ctdata publish-file`: DataSync-style headless publication of a CSV to one dataset.

The CSV is streamed into a temporary Parquet file and handed to `publish_parquet`, the same
function the DAG's publish task calls, so both behave identically.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from pathlib import Path

from ctdata.cli.output import echo
from ctdata.connections import environment_connection
from ctdata.errors import PublishError
from ctdata.portal.connection import PortalConnection
from ctdata.portal.schema import PortalColumn, columns_from_metadata
from ctdata.publishing.methods import METHODS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "publish-file",
        help="publish a CSV to one portal dataset (change-only, chunked, retried)",
        description=(
            "Publish FILE.csv to a Socrata dataset, sending only created, changed and deleted "
            "rows. Credentials come from SOCRATA_USERNAME, SOCRATA_PASSWORD and "
            "SOCRATA_APP_TOKEN, or from the Airflow-style connection AIRFLOW_CONN_<ID> (--conn-id). "
            "Exits 0 only when "
            "the portal holds the rows it should."
        ),
    )
    p.add_argument("file", metavar="FILE.csv", help="CSV whose header names the field names")
    p.add_argument("--portal", required=True, help="portal URL, http(s)://host[:port]")
    p.add_argument("--dataset", required=True, help="dataset id (four-by-four, e.g. abcd-1234)")
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument("--row-id", default=None, help="row identifier column (default: the portal's)")
    p.add_argument("--chunk-rows", type=int, default=10_000, help="rows per request (10000)")
    p.add_argument("--chunk-bytes", type=int, default=8_000_000, help="bytes per request")
    p.add_argument(
        "--conn-id", default=None, help="read credentials from AIRFLOW_CONN_<ID> (URI or JSON)"
    )
    p.add_argument("--state-url", default=None, help="SQLAlchemy URL of the state store")
    p.add_argument("--allow-new-columns", action="store_true", help="add new CSV columns")
    p.add_argument("--reconcile", action="store_true", help="compare with the portal and repair")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def _connection(args: argparse.Namespace) -> PortalConnection:
    """Credentials from --conn-id (the same AIRFLOW_CONN_<ID> forms the DAGs read) or SOCRATA_*."""
    if args.conn_id:
        return PortalConnection.from_airflow_connection(environment_connection(args.conn_id))
    return PortalConnection.from_env(args.portal)


def csv_to_parquet(csv_path: Path, parquet_path: Path, block_bytes: int = 8 << 20) -> list[str]:
    """Stream the CSV into Parquet, every column as text (typing happens in the engine)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if not csv_path.is_file():
        raise PublishError(f"{csv_path}: no such file.")
    with csv_path.open("r", encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), None)
    if not header:
        raise PublishError(f"{csv_path}: the file is empty; its first line must name the fields.")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise PublishError(f"{csv_path}: header repeats column(s) {', '.join(dupes)}.")
    schema = pa.schema([(name, pa.string()) for name in header])
    convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in header})
    read = pacsv.ReadOptions(block_size=block_bytes, encoding="utf8")
    try:
        reader = pacsv.open_csv(str(csv_path), read_options=read, convert_options=convert)
        with pq.ParquetWriter(str(parquet_path), schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
    except pa.ArrowInvalid as exc:
        raise PublishError(f"{csv_path}: cannot read the CSV: {exc}") from None
    return header


def run(args: argparse.Namespace) -> int:
    from ctdata.portal.client import SocrataClient
    from ctdata.publishing.publisher import publish_parquet
    from ctdata.publishing.state import PublishingState

    connection = _connection(args)
    with tempfile.TemporaryDirectory(prefix="ctdata-publish-") as tmp:
        parquet = Path(tmp) / "source.parquet"
        header = csv_to_parquet(Path(args.file), parquet)
        with SocrataClient(connection) as client:
            portal = {
                c.field_name: c for c in columns_from_metadata(client.get_metadata(args.dataset))
            }
            columns = [portal.get(h) or PortalColumn(h, h, "text") for h in header]
            result = publish_parquet(
                client,
                args.dataset,
                parquet,
                columns=columns,
                method=args.method,
                row_id=args.row_id,
                state=PublishingState(args.state_url) if args.state_url else PublishingState(),
                chunk_rows=args.chunk_rows,
                chunk_bytes=args.chunk_bytes,
                allow_new_columns=args.allow_new_columns,
                reconcile=args.reconcile,
            )
    if args.json:
        echo(json.dumps(result.as_dict()))
    else:
        echo(
            f"{args.dataset} {args.method}: rows created {result.created}, updated "
            f"{result.updated}, deleted {result.deleted}, unchanged {result.unchanged}; "
            f"bytes sent {result.bytes_sent}; chunks {result.chunks}, requests "
            f"{result.requests}, retries {result.retries}, rows read back "
            f"{result.rows_read_back}; {result.seconds:.1f} s"
        )
    if result.verified is False:
        print(
            f"error: the portal holds {result.portal_rows} rows, not the expected count; "
            "rerun with --reconcile.",
            file=sys.stderr,
        )
        return 1
    return 0
