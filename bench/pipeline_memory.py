"""Benchmark of one dataset's publication end to end, the real DAG steps through a `DatasetRun`
as the command line builds it: peak memory and time per row as the source grows.

A record-level dataset of 14 columns is generated in SQLite at each size, then published to the
portal stand-in by the steps the agency DAG runs (extract, validate the source, prepare the
records, validate the publishable table, onboard, publish, sync metadata, finish), in a fresh
child process; then 1% of its rows change and a second child publishes the refresh. Each
child reports its own high-water mark (VmHWM, reset at exec: see bench/publish.py for why not
`ru_maxrss`) and its seconds per step.

Targets: peak RSS at the large size at most 1.5x the small size's (memory bounded by the batch,
not the rows), and time per row not worse than the baseline measured before streaming
(BASELINE_S_PER_MROW: seconds per million rows of the first publish and of the refresh).
The slope, MB more peak RSS per million rows more, is held under SLOPE_MB_PER_MROW too.
`--quick` runs 20,000 and 80,000 rows in batches of 5,000 and judges the slope alone (the
imports dominate the RSS at such sizes, and time is the full bench's to judge): what
tests/pipeline/test_pipeline_memory.py runs in `make test`. Prints the ratios as JSON on its last line and exits 1 when a target is missed.
Usage: .venv/bin/python bench/pipeline_memory.py [--rows 1000000] [--factor 4] [--quick]
       [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from publish import PASSWORD, USER, Targets, load_text, memory_mb  # noqa: E402

# Seconds per million rows x 14 columns before streaming, as issue 19 measured them at 1M rows.
# This bench on main at 2e489bf (load 3.3 on 2 cores): 1M rows 1,446 / 1,479 MB peak (first /
# refresh), 80 / 82 s; 4M rows 4,401 / 4,387 MB, 519 / 208 s: RSS ratio 2.98x, 974 MB per M rows.
BASELINE_S_PER_MROW = {"first": 56.0, "refresh": 36.0}
SLOPE_MB_PER_MROW = 700.0  # before streaming: 1,260 (--quick); after: 310-470 (--quick, noisy)
BATCH_ROWS = [100_000]  # the steps' batch (CTDATA_BATCH_ROWS): --quick scales it with the data
SLUG, CODE, SUITE = "records", "bench_stream", "bench_stream_records"
TOWNS = np.array(["Hartford", "New Haven", "Bridgeport", "Stamford", "Waterbury", "Norwalk",
                  "Danbury", "New Britain", "Greenwich", "Fairfield", "Hamden", "Bristol"])  # fmt: skip
COUNTIES = np.array(["Hartford", "New Haven", "Fairfield", "Litchfield", "Tolland", "Windham"])
STATUS = np.array(["Open", "Closed", "Pending", "Withdrawn"])
COLUMNS = [  # (field, portal type, SQL type): 14 columns
    ("record_id", "text", "TEXT"), ("town", "text", "TEXT"), ("county", "text", "TEXT"),
    ("year", "number", "INTEGER"), ("month", "number", "INTEGER"), ("amount", "number", "REAL"),
    ("quantity", "number", "INTEGER"), ("rate", "number", "REAL"), ("category", "text", "TEXT"),
    ("status", "text", "TEXT"), ("opened", "calendar_date", "TEXT"),
    ("closed", "calendar_date", "TEXT"), ("flagged", "checkbox", "INTEGER"),
    ("note", "text", "TEXT"),
]  # fmt: skip


def rows_of(start: int, n: int) -> list[tuple[Any, ...]]:
    """Deterministic rows start..start+n (numbers drawn from a generator seeded by `start`)."""
    rng = np.random.default_rng(start)
    ids = np.char.add("R", np.char.zfill(np.arange(start, start + n).astype(str), 9))
    base = np.datetime64("2015-01-01")
    opened = base + rng.integers(0, 3000, n)
    closed = opened + rng.integers(0, 400, n)
    columns = [
        ids, TOWNS[rng.integers(0, len(TOWNS), n)], COUNTIES[rng.integers(0, len(COUNTIES), n)],
        rng.integers(2015, 2025, n), rng.integers(1, 13, n), (rng.random(n) * 10_000).round(2),
        rng.integers(0, 500, n), rng.random(n).round(4), np.char.add("C", rng.integers(0, 20, n).astype(str)),
        STATUS[rng.integers(0, len(STATUS), n)], opened.astype(str), closed.astype(str),
        (rng.random(n) < 0.1).astype(int), np.char.add("note ", rng.integers(0, 1000, n).astype(str)),
    ]  # fmt: skip
    return list(zip(*(c.tolist() for c in columns), strict=True))


def write_database(path: Path, rows: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE records ({', '.join(f'{f} {t}' for f, _, t in COLUMNS)})")
        marks = ", ".join("?" * len(COLUMNS))
        for start in range(0, rows, 100_000):
            db.executemany(f"INSERT INTO records VALUES ({marks})", rows_of(start, min(100_000, rows - start)))  # fmt: skip


def change_one_percent(path: Path) -> None:
    """The refresh: every hundredth record's amount changes."""
    with sqlite3.connect(path) as db:
        db.execute("UPDATE records SET amount = amount + 1 WHERE rowid % 100 = 0")


def write_agency(folder: Path, database: Path) -> None:
    """The agency spec with its one record-level dataset, and its GX suite."""
    from support.generated_agencies import dataset_spec

    spec = dataset_spec(CODE, 1, 1, "unused.csv")
    spec.update(slug=SLUG, source={"kind": "sql", "url": f"sqlite:///{database}",
                                   "query": "SELECT * FROM records"})  # fmt: skip
    spec.pop("portal_id")
    spec["columns"] = [
        {"name": f.replace("_", " ").title(), "field": f, "type": t,
         "description": f"Generated {f.replace('_', ' ')} of the record"}
        for f, t, _ in COLUMNS
    ]  # fmt: skip
    spec["expectations"] = {"source": [SUITE], "publishable": [SUITE]}
    agency = {"code": CODE, "name": "Streaming bench agency", "owner": "opm-data-team",
              "data_officer": {"name": "Bench Data Officer", "email": "opm.data@ct.gov"},
              "datasets": [spec]}  # fmt: skip
    (folder / "agencies").mkdir(parents=True, exist_ok=True)
    (folder / "agencies" / f"{CODE}.yaml").write_text(yaml.safe_dump(agency, sort_keys=False))
    expectations = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "record_id"}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "record_id"}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "year", "min_value": 2015, "max_value": 2024}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "town", "value_set": TOWNS.tolist()}},
    ]  # fmt: skip
    suite = {"name": SUITE, "id": None, "expectations": expectations, "meta": {}, "notes": None}
    (folder / "expectations").mkdir(parents=True, exist_ok=True)
    (folder / "expectations" / f"{SUITE}.json").write_text(json.dumps(suite))


def environment(work: Path) -> dict[str, str]:
    return {**os.environ, "CTDATA_BATCH_ROWS": str(BATCH_ROWS[0]), "CTDATA_VAR_DIR": str(work / "var"),
            "CTDATA_AGENCIES_DIR": str(work / "agencies"),
            "CTDATA_EXPECTATIONS_DIR": str(work / "expectations"),
            "CTDATA_REPORTS_DIR": str(work / "reports"), "CTDATA_RUN_LOG_DATASET_ID": ""}  # fmt: skip


def child_run(work: str, portal_url: str, run_id: str) -> None:
    """One run of the dataset's steps in this process; its figures as JSON on stdout."""
    from ctdata import settings
    from ctdata.pipeline import steps
    from ctdata.pipeline.run import AgencyRun, PortalClients
    from ctdata.portal.client import SocrataClient
    from ctdata.portal.connection import PortalConnection
    from ctdata.specs import load_agency

    agency = load_agency(settings.current().agencies_dir / f"{CODE}.yaml")
    client = SocrataClient(PortalConnection.from_url(portal_url, username=USER, password=PASSWORD))
    seconds: dict[str, float] = {}
    peaks: dict[str, float] = {}

    def timed(name: str, function: Any, *args: Any) -> Any:
        started = time.perf_counter()
        result = function(*args)
        seconds[name] = time.perf_counter() - started
        peaks[name] = memory_mb()["hwm"]  # the high-water mark once the step is done
        return result

    before = memory_mb()["rss"]
    with AgencyRun(agency=agency, run_id=run_id, portals=PortalClients.of(client)) as agency_run:
        run = agency_run.dataset_run(SLUG)
        extracted = timed("extract", steps.extract, run)
        timed("validate_source", steps.validate_source, run, extracted)
        prepared = timed("prepare_records", steps.prepare_records, run, extracted)
        timed("validate_publishable", steps.validate_publishable, run, prepared)
        timed("onboard", steps.onboard, run)
        published = timed("publish", steps.publish, run, prepared)
        timed("sync_metadata", steps.sync_metadata, run, published)
        timed("finish_run", steps.finish_run, run, published)
    client.close()
    peak = memory_mb()["hwm"]
    print(json.dumps({"rows": extracted["rows"], "seconds": seconds, "peak_rss_mb": peak,
                      "own_rss_mb": peak - before, "published": published,
                      "peak_after": peaks}))  # fmt: skip


def run_child(work: Path, portal_url: str, run_id: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(work), portal_url, run_id]
    done = subprocess.run(command, capture_output=True, text=True, env=environment(work))
    if done.returncode != 0:
        raise SystemExit(f"the run {run_id} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(root: Path, rows: int) -> dict[str, dict[str, Any]]:
    """First publish and 1% refresh of `rows` rows, each in a fresh child, on its own stand-in."""
    from socrata_emulator.testing import run_emulator

    work = root / f"rows-{rows}"
    database = work / "source.db"
    started = time.perf_counter()
    write_database(database, rows)
    write_agency(work, database)
    print(f"{rows:>10,} rows written ({time.perf_counter() - started:.0f} s)", flush=True)
    out = {}
    with run_emulator(work / "emu", users=[f"{USER}:{PASSWORD}"]) as emu:
        out["first"] = run_child(work, emu.url, "manual__first")
        change_one_percent(database)
        out["refresh"] = run_child(work, emu.url, "manual__refresh")
    refreshed = out["refresh"]["published"]
    if refreshed["updated"] != rows // 100 or refreshed["created"] or refreshed["deleted"]:
        raise SystemExit(f"the refresh sent the wrong rows: {refreshed}")
    shutil.rmtree(work / "var" / "sources", ignore_errors=True)
    return out


def report(sizes: list[int], runs: dict[int, dict[str, dict[str, Any]]], quick: bool) -> Targets:
    """Print the figures; judge them all, or (quick) the slope alone: at small sizes the imports
    dominate the RSS ratio and the time per row."""
    targets, shown = Targets(), Targets()  # `shown`: printed beside the targets, not judged
    print("\n== peak RSS (VmHWM of each run's child) and seconds per million rows")
    for rows in sizes:
        for phase, run in runs[rows].items():
            per = run["seconds"]
            slowest = max(per, key=per.get)
            print(f"{rows:>10,} rows {phase:<8} {run['peak_rss_mb']:7.0f} MB "
                  f"(+{run['own_rss_mb']:5.0f} MB over imports) "
                  f"{sum(per.values()):7.1f} s  {sum(per.values()) / rows * 1e6:6.1f} s/M rows  "
                  f"(slowest: {slowest} {per[slowest]:.1f} s)")  # fmt: skip
            marks = run.get("peak_after", {})  # absent from a baseline run's older figures
            print(
                "      peak after each step: " + ", ".join(f"{k} {v:.0f}" for k, v in marks.items())
            )
    small, big = sizes

    def peak(rows: int, figure: str = "peak_rss_mb") -> float:
        return max(run[figure] for run in runs[rows].values())

    judged = shown if quick else targets
    ratio = peak(big) / peak(small)
    judged.check(f"RSS({big:,}) / RSS({small:,})", ratio, 1.5, at_least=False, unit="x")
    slope = (peak(big) - peak(small)) / (big - small) * 1e6
    targets.check("MB more per M rows more", slope, SLOPE_MB_PER_MROW, at_least=False, unit="")
    per_mrow = {}
    for phase, baseline in BASELINE_S_PER_MROW.items():  # at the baseline's size (1M rows)
        seconds = sum(runs[small][phase]["seconds"].values()) / small * 1e6
        per_mrow[phase] = seconds
        judged.check(f"{phase} s per M rows ({small:,}) / baseline", seconds / baseline, 1.0,
                     at_least=False, unit="x")  # fmt: skip
    print("\n".join(targets.lines))
    if shown.lines:
        print("  not judged at these sizes:\n" + "\n".join(shown.lines))
    print(json.dumps({"rss_ratio": ratio, "mb_per_mrow": slope, "peak_rss_mb": {str(r): peak(r) for r in sizes},
                      "s_per_mrow": per_mrow}))  # fmt: skip
    return targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--factor", type=int, default=4, help="second size = rows x this")
    parser.add_argument("--quick", action="store_true", help="20,000 and 80,000 rows")
    parser.add_argument("--batch-rows", type=int, default=0, help="default 100,000; quick 5,000")
    parser.add_argument("--workdir", default=None)
    parser.add_argument(
        "--child", nargs=3, metavar=("WORK", "PORTAL", "RUN_ID"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        return child_run(*args.child)
    rows = 20_000 if args.quick else args.rows
    BATCH_ROWS[0] = args.batch_rows or (5_000 if args.quick else 100_000)
    sizes = [rows, rows * args.factor]
    root = Path(args.workdir or tempfile.mkdtemp(prefix="ctdata-bench-stream-"))
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    print(f"start: {load_text()}; {len(COLUMNS)} columns, batches of {BATCH_ROWS[0]:,} rows")
    runs = {n: measure(root, n) for n in sizes}
    if report(sizes, runs, quick=args.quick).failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
