"""Benchmark of the publishing engine against the stand-in, every figure measured in one run.

1. Initial load of N rows x 20 columns: `publish_parquet` against the raw transport ceiling (the
   same 10,000-row chunks serialized beforehand and POSTed with nothing else in the loop), each
   side on its own stand-in.
2. Refresh with 1% of rows changed and 0.1% deleted (`sync`): wall time and request bytes against
   the naive baseline, what a typical DAG does with sodapy to get the same result: read the file,
   turn its rows into dicts and replace the dataset's rows with them (one PUT, which also removes
   the rows that left the file). Bytes are what the requests carry on both sides.
3. Peak RSS of the publisher process (a child process per load) at N and at 5N rows: the
   child's own high-water mark (VmHWM, reset at exec), and its growth over the RSS it had
   before publishing (the imports). Not `ru_maxrss`: Linux carries a parent's maximum across
   fork and exec into it, so every child would report at least the bench's own peak (the
   naive baseline holds every row as a Python dict), which made the publisher look as if its
   memory grew with the rows.

Prints each target beside its figure and exits 1 when one is missed. `--rss-only` measures 3
alone (what tests/publishing/test_memory.py runs at small sizes).
Usage: .venv/bin/python bench/publish.py [--rows 1000000] [--rss-factor 5] [--workdir DIR]
       [--rss-only]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

USER, PASSWORD = "bench@ct.gov", "bench-password-1"
TEXT_VOCAB = np.array(
    ["Hartford", "New Haven", "Bridgeport", "Stamford", "Waterbury", "Norwalk", "Danbury",
     "New Britain", "West Hartford", "Greenwich", "Fairfield", "Hamden", "Bristol", "Meriden"]
)  # fmt: skip


def bench_columns() -> list[Any]:
    from ctdata.portal.schema import PortalColumn

    cols = [PortalColumn("record_id", "Record ID", "text")]
    cols += [PortalColumn(f"n{i}", f"Number {i}", "number") for i in range(8)]
    cols += [PortalColumn(f"t{i}", f"Text {i}", "text") for i in range(7)]
    cols += [PortalColumn(f"d{i}", f"Date {i}", "calendar_date") for i in range(2)]
    cols += [PortalColumn(f"b{i}", f"Flag {i}", "checkbox") for i in range(2)]
    return cols  # 20 columns


def make_batch(start: int, n: int, version: np.ndarray | None = None) -> pa.RecordBatch:
    rng = np.random.default_rng(start)
    ids = np.arange(start, start + n)
    data: dict[str, pa.Array] = {
        "record_id": pa.array(np.char.add("R", np.char.zfill(ids.astype(str), 9)))
    }
    for i in range(8):
        vals = rng.integers(0, 100_000, n) if i % 2 == 0 else rng.random(n).round(4) * 1000
        if i == 0 and version is not None:
            vals = vals + version
        data[f"n{i}"] = pa.array(vals)
    for i in range(7):
        data[f"t{i}"] = pa.array(TEXT_VOCAB[rng.integers(0, len(TEXT_VOCAB), n)])
    base = np.datetime64("2012-01-01")
    for i in range(2):
        days = rng.integers(0, 4000, n)
        data[f"d{i}"] = pa.array((base + days).astype("datetime64[D]"), pa.date32())
    for i in range(2):
        data[f"b{i}"] = pa.array(rng.random(n) < 0.5)
    return pa.RecordBatch.from_pydict(data)


def write_source(path: Path, rows: int, *, changed: float = 0.0, deleted: float = 0.0) -> None:
    """Stream a deterministic file; a refresh changes n0 in some rows and drops others."""
    writer = None
    step = 100_000
    for start in range(0, rows, step):
        n = min(step, rows - start)
        rng = np.random.default_rng(10_000_000 + start)
        version = (rng.random(n) < changed).astype(np.int64) if changed else None
        batch = make_batch(start, n, version)
        if deleted:
            batch = batch.filter(pa.array(rng.random(n) >= deleted))
        if writer is None:
            writer = pq.ParquetWriter(str(path), batch.schema)
        writer.write_batch(batch, row_group_size=step)
    assert writer is not None
    writer.close()


def memory_mb() -> dict[str, float]:
    """This process's resident memory now and its high-water mark since exec, in MB."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line.split(":")[0]] = int(line.split()[1]) / 1024
    return {"rss": found["VmRSS"], "hwm": found["VmHWM"]}


def child_publish(url: str, ds: str, parquet: str, state_url: str, method: str) -> None:
    """Run one publication in this process and print its result and peak RSS as JSON."""
    from ctdata.portal.client import SocrataClient
    from ctdata.portal.connection import PortalConnection
    from ctdata.publishing import PublishingState, publish_parquet

    conn = PortalConnection.from_url(url, username=USER, password=PASSWORD)
    before = memory_mb()["rss"]  # everything imported, nothing read
    with SocrataClient(conn) as client:
        result = publish_parquet(
            client, ds, parquet, columns=bench_columns(), method=method, row_id=None,
            state=PublishingState(state_url),
        )  # fmt: skip
    peak = memory_mb()["hwm"]
    print(json.dumps({"result": result.as_dict(), "peak_rss_mb": peak,
                      "own_rss_mb": peak - before}))  # fmt: skip


def run_child(url: str, ds: str, parquet: Path, state_url: str, method: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", url, ds, str(parquet), state_url, method]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"publisher failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _count_request_bytes(session: Any) -> list[int]:
    """Record the body size of every request the session sends."""
    sizes: list[int] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        body = response.request.body or b""
        sizes.append(len(body.encode() if isinstance(body, str) else body))

    session.hooks["response"].append(hook)
    return sizes


def transport_ceiling(client: Any, ds: str, parquet: Path, chunk_rows: int) -> tuple[float, int]:
    """POST the same chunks, serialized beforehand, with nothing else in the loop."""
    from ctdata.publishing import canonical as canon
    from ctdata.publishing.encoding import row_json

    columns = bench_columns()
    bodies: list[bytes] = []
    for batch in pq.ParquetFile(str(parquet)).iter_batches(batch_size=chunk_rows):
        arrays = {c.field_name: canon.canonicalize(batch.column(c.field_name), c) for c in columns}
        rows = row_json(arrays, columns).to_pylist()
        bodies.append(("[" + ",".join(rows) + "]").encode())
    session = client.soda.session
    url = f"{client.connection.base_url}/resource/{ds}.json"
    headers = {"Content-Type": "application/json"}
    sizes = _count_request_bytes(session)
    started = time.perf_counter()
    for body in bodies:
        session.post(url, data=body, headers=headers, timeout=600).raise_for_status()
    return time.perf_counter() - started, sum(sizes)


def naive_sync_by_replace(soda: Any, ds: str, parquet: Path) -> tuple[float, int]:
    """What a typical DAG does with sodapy: every row as a dict, one replace (PUT) of the
    dataset's rows, which also drops the rows that left the file."""
    sizes = _count_request_bytes(soda.session)
    started = time.perf_counter()
    rows = pq.read_table(str(parquet)).to_pylist()
    for row in rows:
        for k, v in row.items():
            if isinstance(v, dt.date):
                row[k] = v.isoformat()
    soda.replace(ds, rows)
    return time.perf_counter() - started, sum(sizes)


class Targets:
    """Figures with their targets; `failed` says whether any was missed."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.failed = False

    def check(self, name: str, value: float, target: float, *, at_least: bool, unit: str) -> None:
        ok = value >= target if at_least else value <= target
        self.failed |= not ok
        sign = ">=" if at_least else "<="
        verdict = "met" if ok else "MISSED"
        self.lines.append(
            f"  {name:<34} {value:8.2f}{unit}   target {sign} {target}{unit}   {verdict}"
        )


def load_text() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def rss_check(
    targets: Targets, client: Any, url: str, work: Path, load: dict[str, Any], n: int, factor: int
) -> dict[str, float]:
    """Publish factor x n rows in a child and compare its peak RSS with the n-row load's."""
    big_n = n * factor
    big = work / "big.parquet"
    write_source(big, big_n)
    big_ds = client.create_dataset("big", bench_columns(), row_identifier="record_id")["id"]
    big_load = run_child(url, big_ds, big, f"sqlite:///{work / 'big.db'}", "upsert")
    print("\n== peak RSS of the publisher (initial load): high-water mark, and over its imports")
    for rows, run in ((n, load), (big_n, big_load)):
        print(f"{rows:>10,} rows: {run['peak_rss_mb']:7.0f} MB  (+{run['own_rss_mb']:.0f} MB "
              f"publishing, {run['result']['seconds']:.0f} s)")  # fmt: skip
    ratio = big_load["peak_rss_mb"] / load["peak_rss_mb"]
    targets.check(f"RSS({big_n:,}) / RSS({n:,})", ratio, 1.5, at_least=False, unit="x")
    own = big_load["own_rss_mb"] / max(load["own_rss_mb"], 1.0)
    print(f"  growth over the imports: {own:.2f}x for {factor}x the rows")
    return {"rss_ratio": ratio, "own_ratio": own}


def rss_only(rows: int, factor: int, workdir: str | None) -> None:
    """Section 3 alone: two initial loads, N and factor x N rows, on one stand-in."""
    from ctdata.portal.client import SocrataClient
    from ctdata.portal.connection import PortalConnection
    from socrata_emulator.testing import run_emulator

    work = Path(workdir or tempfile.mkdtemp(prefix="ctdata-bench-rss-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    small = work / "initial.parquet"
    write_source(small, rows)
    targets = Targets()
    with run_emulator(work / "emu", users=[f"{USER}:{PASSWORD}"]) as emu:
        client = SocrataClient(PortalConnection.from_url(emu.url, username=USER, password=PASSWORD))
        ds = client.create_dataset("small", bench_columns(), row_identifier="record_id")["id"]
        load = run_child(emu.url, ds, small, f"sqlite:///{work / 'small.db'}", "upsert")
        ratios = rss_check(targets, client, emu.url, work, load, rows, factor)
    print("\n".join(targets.lines))
    print(json.dumps(ratios))
    if targets.failed:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rss-factor", type=int, default=5, help="second RSS size = rows x this")
    parser.add_argument("--chunk-rows", type=int, default=10_000)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--rss-only", action="store_true", help="measure peak RSS alone")
    args = parser.parse_args()
    if args.rss_only:
        return rss_only(args.rows, args.rss_factor, args.workdir)

    from ctdata.portal.client import SocrataClient
    from ctdata.portal.connection import PortalConnection
    from socrata_emulator.testing import run_emulator, sodapy_client

    work = Path(args.workdir or tempfile.mkdtemp(prefix="ctdata-bench-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    n = args.rows
    initial, refresh = work / "initial.parquet", work / "refresh.parquet"
    print(f"start: {load_text()}")
    t0 = time.perf_counter()
    write_source(initial, n)
    write_source(refresh, n, changed=0.01, deleted=0.001)
    print(f"sources written ({time.perf_counter() - t0:.0f} s): {n:,} rows x 20 columns")
    targets = Targets()

    # Two stand-ins, one per side, so neither side loads into a database the other has grown.
    users = [f"{USER}:{PASSWORD}"]
    with (
        run_emulator(work / "emu", users=users) as emu,
        run_emulator(work / "emu-baseline", users=users) as base_emu,
    ):
        conn = PortalConnection.from_url(base_emu.url, username=USER, password=PASSWORD)
        client = SocrataClient(conn)
        pipe_client = SocrataClient(
            PortalConnection.from_url(emu.url, username=USER, password=PASSWORD)
        )
        cols = bench_columns()
        naive_ds = client.create_dataset("naive", cols, row_identifier="record_id")["id"]
        pipe_ds = pipe_client.create_dataset("pipeline", cols, row_identifier="record_id")["id"]
        state_url = f"sqlite:///{work / 'state.db'}"

        ceiling_s, ceiling_bytes = transport_ceiling(client, naive_ds, initial, args.chunk_rows)
        load = run_child(emu.url, pipe_ds, initial, state_url, "upsert")
        load_s = load["result"]["seconds"]
        print(f"\n== initial load, {n:,} rows")
        print(f"transport ceiling : {ceiling_s:8.1f} s  {n / ceiling_s:10,.0f} rows/s  "
              f"{ceiling_bytes / 1e6:8.1f} MB")  # fmt: skip
        print(f"publish_parquet   : {load_s:8.1f} s  {n / load_s:10,.0f} rows/s  "
              f"{load['result']['bytes_sent'] / 1e6:8.1f} MB")  # fmt: skip
        targets.check("initial load / transport ceiling", load_s / ceiling_s, 1.5,
                      at_least=False, unit="x")  # fmt: skip

        sync = run_child(emu.url, pipe_ds, refresh, state_url, "sync")
        soda = sodapy_client(base_emu, USER, PASSWORD, timeout=1800)
        naive_s, naive_bytes = naive_sync_by_replace(soda, naive_ds, refresh)
        r = sync["result"]
        expected = pq.ParquetFile(str(refresh)).metadata.num_rows
        same = client.count_rows(naive_ds) == pipe_client.count_rows(pipe_ds) == expected
        print("\n== refresh: 1% changed, 0.1% deleted (the same deletions on both sides)")
        print(f"naive baseline, sodapy replace of every row: {naive_s:8.1f} s  "
              f"{naive_bytes / 1e6:9.2f} MB")  # fmt: skip
        print(f"publish_parquet sync                       : {r['seconds']:8.1f} s  "
              f"{r['bytes_sent'] / 1e6:9.2f} MB  (created {r['created']}, updated "
              f"{r['updated']}, deleted {r['deleted']}; verified {r['verified']})")  # fmt: skip
        print(f"both datasets hold {expected:,} rows afterwards: {same}")
        targets.check("refresh speed-up", naive_s / r["seconds"], 20, at_least=True, unit="x")
        targets.check("refresh bytes, fewer by", naive_bytes / max(r["bytes_sent"], 1), 50,
                      at_least=True, unit="x")  # fmt: skip
        if not same:
            targets.failed = True
            targets.lines.append("  the two datasets do not hold the same number of rows")

        if args.rss_factor > 1:
            rss_check(targets, pipe_client, emu.url, work, load, n, args.rss_factor)
    print(f"\n== targets ({load_text()} at the end)")
    print("\n".join(targets.lines))
    print(f"\nworkdir: {work}")
    if targets.failed:
        raise SystemExit(1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_publish(*sys.argv[2:7])
    else:
        main()
