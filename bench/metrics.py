"""Benchmark: nightly collection over 2,000 datasets on the stand-in, against a naive collector
making one request per dataset, side by side in the same run.

    .venv/bin/python bench/metrics.py [--datasets 2000] [--traffic 600]

Prints requests and seconds of each, their ratios, and checks both see the same counters.
Targets (issue 5): at least 20x fewer requests, and under 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ctdata.metrics.collect import LOCAL_TZ, collect
from ctdata.metrics.config import load_metrics_config
from ctdata.demo.traffic import generate_traffic
from ctdata.portal.client import SocrataClient
from ctdata.portal.connection import PortalConnection
from socrata_emulator.testing import run_emulator

USER = ("bench@ct.gov", "bench-pw")
FREQUENCIES = ["Daily", "Weekly", "Monthly", "Annually", "As needed"]


def seed(n: int) -> dict[str, Any]:
    datasets = []
    for i in range(n):
        agency = f"Agency {i % 40:02d}"
        datasets.append(
            {
                "id": f"bm{i // 10000:02d}-{i % 10000:04d}",
                "name": f"Benchmark dataset {i}",
                "owner": USER[0],
                "public": True,
                "published": True,
                "description": "" if i % 7 == 0 else f"Benchmark dataset {i} of {agency}.",
                "category": "Government",
                "tags": ["bench"],
                "attribution": agency,
                "custom_fields": {"Publishing": {"Update Frequency": FREQUENCIES[i % 5]}},
                "columns": [
                    {"fieldName": "k", "name": "Key", "dataTypeName": "text", "description": "k"}
                ],
            }
        )
    return {"datasets": datasets}


def client_for(url: str) -> SocrataClient:
    return SocrataClient(PortalConnection.from_url(url, username=USER[0], password=USER[1]))


def naive(url: str, ids: list[str]) -> tuple[dict[str, tuple[int, int]], int, float]:
    """One GET /api/views/{id}.json per dataset (viewCount, downloadCount; no API calls)."""
    started = time.perf_counter()
    with client_for(url) as client:
        out = {}
        for ds_id in ids:
            view = client.get_metadata(ds_id)
            out[ds_id] = (int(view.get("viewCount") or 0), int(view.get("downloadCount") or 0))
        return out, client.stats.requests, time.perf_counter() - started


def batched(url: str) -> tuple[dict[str, tuple[int, int]], int, float]:
    """The metrics job's collection: catalog pages + one grouped site-analytics query."""
    config = load_metrics_config()
    started = time.perf_counter()
    with client_for(url) as client:
        day = dt.datetime.now(LOCAL_TZ).date()
        collection = collect(client, config, [], day)
        seconds = time.perf_counter() - started
        out = {
            o.dataset_id: (o.counters.views, o.counters.downloads) for o in collection.observations
        }
        return out, client.stats.requests, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=2000)
    parser.add_argument("--traffic", type=int, default=600, help="HTTP requests of demo traffic")
    args = parser.parse_args(argv)
    logging.getLogger().setLevel(logging.ERROR)
    data = seed(args.datasets)
    ids = [d["id"] for d in data["datasets"]]
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        t0 = time.perf_counter()
        with run_emulator(Path(tmp), users=[":".join(USER)], seed=data) as emulator:
            print(f"seeded {len(ids)} datasets in {time.perf_counter() - t0:.1f} s")
            generate_traffic(emulator.url, ids, seed=1, max_requests=args.traffic)
            fast, fast_requests, fast_seconds = batched(emulator.url)
            slow, slow_requests, slow_seconds = naive(emulator.url, ids)
    agree = all(fast.get(i) == slow[i] for i in ids)
    print(f"{'collector':<34}{'requests':>10}{'seconds':>10}")
    print(f"{'batched (catalog + grouped SoQL)':<34}{fast_requests:>10}{fast_seconds:>10.2f}")
    print(f"{'naive (one view per dataset)':<34}{slow_requests:>10}{slow_seconds:>10.2f}")
    print(
        f"requests ratio naive/batched: {slow_requests / fast_requests:.0f}x; "
        f"time ratio: {slow_seconds / fast_seconds:.1f}x; counters agree: {agree}"
    )
    ok = agree and slow_requests >= 20 * fast_requests and fast_seconds < 60
    print("targets (>= 20x fewer requests, < 60 s): " + ("met" if ok else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
