"""`ctdata emulator` (or `python -m socrata_emulator`): serve the Socrata stand-in;
`... seed SEED.yaml`: seed a data dir. Errors in the flags or the seed file are reported in words
with exit status 2, whichever front door started the stand-in."""

from __future__ import annotations

import argparse
import functools
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from socrata_emulator.models import EmulatorError

READY_PREFIX = "Serving Socrata stand-in on "
DEFAULT_ANALYTICS_ID = "site-anly"


class EmulatorConfigError(EmulatorError):
    """A bad flag (credentials, rates, ids)."""


def _reported(command: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """Run a command; an EmulatorError becomes `error: ...` on stderr and exit status 2."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except EmulatorError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    return run


def _credentials(values: list[str], flag: str) -> dict[str, str]:
    out = {}
    for value in values:
        email, sep, password = value.partition(":")
        if not sep or not email or not password:
            raise EmulatorConfigError(f"{flag} expects EMAIL:PASSWORD, got {email or value!r}:***")
        out[email] = password
    return out


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help="serve a local Socrata-compatible portal (the stand-in for data.ct.gov)",
        description="Serve a Socrata-compatible portal stand-in until SIGTERM/SIGINT, "
        "or seed its data dir with `ctdata emulator seed SEED.yaml --data-dir DIR`.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--data-dir", type=Path, help="folder for the SQLite state (required)")
    parser.add_argument("--domain", default="data.ct.gov", help="domain named in catalog results")
    parser.add_argument("--user", action="append", default=[], metavar="EMAIL:PASSWORD")
    parser.add_argument("--admin", action="append", default=[], metavar="EMAIL:PASSWORD")
    parser.add_argument("--app-token", action="append", default=[], metavar="TOKEN")
    parser.add_argument("--seed", type=Path, help="seed YAML applied before serving")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of writes that fail")
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every reply")
    parser.add_argument(
        "--stale-reads",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="SODA reads of rows lag writes by this long, marked X-SODA2-Data-Out-Of-Date: true",
    )
    parser.add_argument(
        "--analytics-id",
        default=DEFAULT_ANALYTICS_ID,
        help="id of the private 'Site Analytics: Asset Access' dataset (default site-anly)",
    )
    parser.add_argument(
        "--analytics-viewer",
        action="append",
        default=[],
        metavar="EMAIL",
        help="an account the analytics dataset is shared with (besides administrators)",
    )
    parser.set_defaults(func=_reported(serve_command))
    sub = parser.add_subparsers(dest="emulator_action", required=False, metavar="ACTION")
    seed = sub.add_parser("seed", help="create/update datasets from a seed YAML, then exit")
    seed.add_argument("seed_file", type=Path, metavar="SEED.yaml")
    seed.add_argument("--data-dir", type=Path, required=True)
    seed.set_defaults(func=_reported(seed_command))


def main(argv: list[str] | None = None) -> int:
    """`python -m socrata_emulator ...`: the same command without the pipeline's CLI."""
    parser = argparse.ArgumentParser(prog="socrata_emulator")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(["emulator", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args) or 0)


def seed_command(args: argparse.Namespace) -> int:
    from socrata_emulator.seed import apply_seed
    from socrata_emulator.store import Store

    store = Store(args.data_dir)
    try:
        ids = apply_seed(store, args.seed_file)
    finally:
        store.close()
    print(f"Seeded {len(ids)} dataset(s) into {args.data_dir}: {', '.join(ids)}")
    return 0


def serve_command(args: argparse.Namespace) -> int:
    from socrata_emulator.analytics import SiteAnalytics
    from socrata_emulator.api import PortalApi
    from socrata_emulator.faults import FaultInjector
    from socrata_emulator.models import FOUR_BY_FOUR, Accounts
    from socrata_emulator.seed import apply_seed
    from socrata_emulator.server import PortalServer, serve
    from socrata_emulator.store import Store

    if args.data_dir is None:
        raise EmulatorConfigError("ctdata emulator needs --data-dir DIR (where state is kept)")
    if not FOUR_BY_FOUR.match(args.analytics_id):
        raise EmulatorConfigError(
            f"--analytics-id {args.analytics_id!r} is not a four-by-four like 'site-anly'"
        )
    if not 0.0 <= args.fault_rate <= 1.0:
        raise EmulatorConfigError(f"--fault-rate must be between 0 and 1, got {args.fault_rate}")
    if args.stale_reads < 0:
        raise EmulatorConfigError(f"--stale-reads must be >= 0 seconds, got {args.stale_reads}")
    accounts = Accounts(
        users=_credentials(args.user, "--user"),
        admins=_credentials(args.admin, "--admin"),
        app_tokens=frozenset(args.app_token),
    )
    store = Store(args.data_dir)
    store.replica.lag_seconds = args.stale_reads
    if args.seed:
        apply_seed(store, args.seed)
    owner = next(iter(accounts.admins), "analytics@localhost")
    analytics = SiteAnalytics(store, args.analytics_id, owner, args.analytics_viewer)
    api = PortalApi(store, accounts, args.domain, analytics)
    server = PortalServer(
        (args.host, args.port),
        api,
        FaultInjector(args.fault_rate, args.fault_seed),
        args.latency_ms,
    )

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[:2]
    print(f"{READY_PREFIX}http://{host}:{port}", flush=True)
    try:
        serve(server)
    finally:
        server.server_close()
        store.close()
    print("Socrata stand-in stopped", file=sys.stderr, flush=True)
    return 0
