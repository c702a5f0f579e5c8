"""Benchmark: the nightly usage collection over 2,000 datasets on the stand-in, against the best
plain alternative measured side by side in the same run: the catalog's own counts (the Discovery
API's page views and downloads, no site analytics).

    .venv/bin/python bench/metrics.py [--datasets 2000] [--traffic 600] [--repeat 5]

Both collectors read the same catalog pages; the job adds the "Site Analytics: Asset Access"
dataset (its columns, then one grouped query). Prints what each can and cannot see, requests and
median seconds, the targets beside the figures, and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctdata.clock import state_date
from ctdata.demo.traffic import generate_traffic
from ctdata.metrics.collect import Collection, collect
from ctdata.metrics.config import MetricsConfig, load_metrics_config
from ctdata.portal.client import SocrataClient
from ctdata.portal.connection import PortalConnection
from socrata_emulator.testing import run_emulator

USER = ("bench@ct.gov", "bench-pw")
FREQUENCIES = ["Daily", "Weekly", "Monthly", "Annually", "As needed"]
MAX_EXTRA_REQUESTS = 2  # the analytics columns and one page of grouped sums
MAX_TIME_RATIO = 2.0  # the job's collection against the catalog-only one
MAX_SECONDS = 60.0


@dataclass
class Run:
    label: str
    requests: int
    seconds: float
    counters: dict[str, tuple[int, int, int | None]]


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


def measure(url: str, collectors: dict[str, MetricsConfig], repeat: int) -> list[Run]:
    """Each collector `repeat` times, interleaved so that load and warm caches fall on both
    alike: median seconds, requests and counters of the last run."""
    day = state_date()
    seconds: dict[str, list[float]] = {label: [] for label in collectors}
    last: dict[str, Collection] = {}
    for _ in range(repeat):
        for label, config in collectors.items():
            with client_for(url) as client:
                started = time.perf_counter()
                last[label] = collect(client, config, [], day)
                seconds[label].append(time.perf_counter() - started)
    return [
        Run(
            label,
            last[label].requests,
            statistics.median(seconds[label]),
            {
                o.dataset_id: (o.counters.views, o.counters.downloads, o.counters.api_calls)
                for o in last[label].observations
            },
        )
        for label in collectors
    ]


def daily_series(url: str, config: MetricsConfig) -> tuple[dict[str, dict[str, int]], int, float]:
    """Accesses per dataset for each day, from the analytics dataset's hourly rows: one query."""
    site = config.site_analytics
    assert site is not None
    f = site.fields
    started = time.perf_counter()
    with client_for(url) as client:
        rows = list(
            client.read_rows(
                site.dataset_id or "site-anly",
                select=f"date_trunc_ymd({f.timestamp}) AS day, {f.asset_id}, {f.access_type}, "
                f"sum({f.count}) AS accesses",
                where=f"{f.asset_type} = 'dataset'",
                group=f"day, {f.asset_id}, {f.access_type}",
                order=f"day, {f.asset_id}",
            )
        )
        requests = client.stats.requests
    series: dict[str, dict[str, int]] = {}
    kind = {a: "views" for a in site.access_types.views}
    kind |= {a: "downloads" for a in site.access_types.downloads}
    kind |= {a: "api_calls" for a in site.access_types.api_calls}
    for row in rows:
        per_day = series.setdefault(row["day"][:10], {})
        key = f"{row[f.asset_id]}/{kind[row[f.access_type]]}"
        per_day[key] = per_day.get(key, 0) + int(row["accesses"])
    return series, requests, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=2000)
    parser.add_argument("--traffic", type=int, default=600, help="HTTP requests of demo traffic")
    parser.add_argument("--repeat", type=int, default=5, help="collections timed per collector")
    args = parser.parse_args(argv)
    logging.getLogger().setLevel(logging.ERROR)
    load_before = os.getloadavg()
    data = seed(args.datasets)
    ids = [d["id"] for d in data["datasets"]]
    job = load_metrics_config()
    catalog_only = job.model_copy(update={"site_analytics": None})
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        t0 = time.perf_counter()
        with run_emulator(
            Path(tmp), users=[":".join(USER)], seed=data, analytics_viewers=[USER[0]]
        ) as emulator:
            print(f"seeded {len(ids)} datasets in {time.perf_counter() - t0:.1f} s")
            traffic = generate_traffic(emulator.url, ids, seed=1, max_requests=args.traffic)
            print(f"generated {args.traffic} requests of traffic (Zipf over the datasets)")
            baseline, analytics = measure(
                emulator.url,
                {"catalog counts (baseline)": catalog_only, "catalog + site analytics": job},
                args.repeat,
            )
            series, series_requests, series_seconds = daily_series(emulator.url, job)
    code = report(traffic, baseline, analytics, series, series_requests, series_seconds)
    load_after = os.getloadavg()
    print(f"machine load (1-min average): {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    return code


def report(
    traffic: dict[str, dict[str, int]],
    baseline: Run,
    analytics: Run,
    series: dict[str, dict[str, int]],
    series_requests: int,
    series_seconds: float,
) -> int:
    """Print the comparison and the targets; 1 if any target is missed."""
    truth = {i: (t["views"], t["downloads"], t["api_calls"]) for i, t in traffic.items()}
    today = dt.datetime.now(dt.UTC).date().isoformat()
    expected_day = {
        f"{i}/{k}": n for i, t in traffic.items() for k, n in t.items() if k != "failed" and n
    }

    def exact(run: Run, n: int) -> bool:
        """The first n counters of every dataset equal what the traffic did."""
        return all(run.counters.get(i, (None,) * 3)[:n] == truth[i][:n] for i in truth)

    print()
    print(f"{'collector':<28}{'requests':>9}{'seconds':>9}  sees")
    for run, sees in (
        (baseline, "page views and downloads to date; no API calls"),
        (analytics, "page views, downloads and API calls to date"),
    ):
        print(f"{run.label:<28}{run.requests:>9}{run.seconds:>9.2f}  {sees}")
    print()
    print("what each can see                 catalog counts          site analytics")
    print("page views, downloads to date     yes                     yes")
    print("API calls                         no                      yes (per hour)")
    print("a day's figures                   only by differencing    yes, for any past day")
    print("                                  two nightly snapshots")
    print(
        f"daily series (all datasets)       no                      1 grouped query: "
        f"{series_requests} request(s), {series_seconds:.2f} s"
    )
    extra = analytics.requests - baseline.requests
    ratio = analytics.seconds / baseline.seconds
    checks = [
        ("catalog counts equal the traffic (views, downloads)", exact(baseline, 2), "exact"),
        ("catalog counts see no API calls", all(c[2] is None for c in baseline.counters.values()), "none"),
        ("site analytics equal the traffic (views, downloads, API calls)", exact(analytics, 3), "exact"),
        (f"daily series for {today} equals the traffic", series.get(today) == expected_day, "exact"),
        (f"extra requests for site analytics: {extra}", extra <= MAX_EXTRA_REQUESTS, f"<= {MAX_EXTRA_REQUESTS}"),
        (f"time against catalog counts: {ratio:.2f}x", ratio <= MAX_TIME_RATIO, f"<= {MAX_TIME_RATIO}x"),
        (f"collection time: {analytics.seconds:.2f} s", analytics.seconds < MAX_SECONDS, f"< {MAX_SECONDS:.0f} s"),
    ]  # fmt: skip
    print()
    print(f"{'check':<66}{'target':>10}  result")
    for label, ok, target in checks:
        print(f"{label:<66}{target:>10}  {'met' if ok else 'MISSED'}")
    missed = [label for label, ok, _ in checks if not ok]
    print("all targets met" if not missed else f"targets missed: {len(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
