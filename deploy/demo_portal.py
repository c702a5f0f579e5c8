"""The demo's portal stand-in as a long-running service (compose profile `demo`, the deployment
tests): seed the agencies' and the usage job's datasets as `make demo` does, then serve
`ctdata emulator` with the demo's publishing account, administrator and app token.

Run: python deploy/demo_portal.py --host 0.0.0.0 --port 8089 --data-dir /var/lib/portal
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from ctdata.cli import main as ctdata
    from ctdata.demo.environment import ADMIN, APP_TOKEN, PUBLISHER
    from ctdata.demo.runner import portal_seed
    from ctdata.specs import load_all
    from socrata_emulator.testing import seed_data_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every reply")
    args = parser.parse_args(argv)

    args.data_dir.mkdir(parents=True, exist_ok=True)
    seed = portal_seed(load_all().agencies, args.data_dir)
    if seed["datasets"]:
        seed_data_dir(args.data_dir, seed)
    return ctdata(
        [
            "emulator",
            *("--host", args.host, "--port", str(args.port), "--data-dir", str(args.data_dir)),
            *("--user", ":".join(PUBLISHER), "--admin", ":".join(ADMIN)),
            *("--app-token", APP_TOKEN, "--latency-ms", str(args.latency_ms)),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
