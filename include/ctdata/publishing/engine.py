"""The publishing engine: change-only, chunked, retried, exactly-once publication of a Parquet file.

Two passes over the Parquet file keep memory bounded by one chunk plus 16 bytes a row:
pass 1 types every value, runs the guards and fingerprints every row; the plan compares those
fingerprints with the state store; pass 2 re-reads only the batches holding rows to send,
serializes them (vectorized) and posts chunks. A chunk's fingerprints are committed only after
the portal acknowledged it, so a rerun after any crash sends what is missing and nothing else.

Methods. `upsert`, `sync` and keyed `replace` key rows by the row identifier (keyed rows are
idempotent to resend). `append` and `replace` on a dataset without identifier key rows by the
hash of their whole content with a count: a row is sent only when the file holds more copies of
it than the portal does, so rerunning an append never duplicates (appending a row identical to
one already published therefore needs it to appear twice in the file). Such writes are never
retried blindly: when the portal may have applied a chunk whose answer was lost, the engine
reads the portal back and recomputes the plan.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ctdata.errors import AmbiguousWriteError, PublishError
from ctdata.portal.client import SocrataClient
from ctdata.portal.schema import PortalColumn, columns_from_metadata, row_identifier_from_metadata
from ctdata.publishing import canonical as canon
from ctdata.publishing import encoding, fingerprints
from ctdata.publishing.methods import METHODS, Method
from ctdata.publishing.state import Fingerprints, Segment, StateStore

T = TypeVar("T")
MAX_REPLANS = 25
READ_PAGE = 50_000
STASH_ROWS = 50_000  # at most this many changed rows are kept in memory between the passes
SCAN_BATCH = 65_536  # rows typed and hashed at a time in pass 1 (memory ~ 20 MB at 20 columns)


@dataclass
class PublishResult:
    """What one publication did; `as_dict()` is small and JSON-safe for XCom."""

    dataset_id: str
    method: str
    rows_in_source: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    bytes_sent: int = 0
    chunks: int = 0
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    bytes_received: int = 0
    rows_read_back: int = 0
    replans: int = 0
    columns_added: list[str] = field(default_factory=list)
    portal_rows: int | None = None
    verified: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["seconds"] = round(self.seconds, 3)
        return out


@dataclass
class _Source:
    """The Parquet file, read batch by batch in canonical form."""

    pf: pq.ParquetFile
    columns: list[PortalColumn]
    row_id: PortalColumn | None
    batch_rows: int

    @property
    def num_rows(self) -> int:
        return int(self.pf.metadata.num_rows)

    def raw_batches(self, batch_rows: int | None = None) -> Iterator[tuple[int, pa.RecordBatch]]:
        first = 0
        names = [c.field_name for c in self.columns]
        size = batch_rows or self.batch_rows
        for batch in self.pf.iter_batches(batch_size=size, columns=names):
            yield first, batch
            first += batch.num_rows

    def rows_at(self, positions: np.ndarray, limit: int = 3) -> list[tuple[int, dict[str, Any]]]:
        """A few raw source rows (1-based row numbers) for error messages."""
        wanted = np.sort(np.asarray(positions, dtype=np.int64))[:limit]
        out: list[tuple[int, dict[str, Any]]] = []
        for first, batch in self.raw_batches():
            local = wanted[(wanted >= first) & (wanted < first + batch.num_rows)] - first
            for pos in local.tolist():
                out.append((first + pos + 1, batch.slice(pos, 1).to_pylist()[0]))
            if len(out) >= len(wanted):
                break
        return out


@dataclass
class _Plan:
    send: np.ndarray  # bool per source row
    new: np.ndarray  # bool per source row (keyed: not on the portal yet)
    delete_keys: np.ndarray  # uint64
    full_replace: bool = False
    # Rows to send kept from pass 1 when few (a refresh), so pass 2 need not reread the file.
    stash: list[tuple[int, np.ndarray, pa.RecordBatch]] | None = None


@dataclass
class _Context:
    client: SocrataClient
    state: StateStore
    dataset_id: str
    method: str
    source: _Source
    keyed: bool
    key_kind: str
    chunk_rows: int
    chunk_bytes: int
    result: PublishResult
    portal_fields: frozenset[str] = frozenset()


def publish_parquet(
    client: SocrataClient,
    dataset_id: str,
    parquet_path: str | os.PathLike[str] | Any,
    *,
    columns: list[PortalColumn],
    method: Method,
    row_id: str | None,
    state: StateStore,
    chunk_rows: int = 10_000,
    chunk_bytes: int = 8_000_000,
    allow_new_columns: bool = False,
    reconcile: bool = False,
) -> PublishResult:
    """Make the portal dataset hold the Parquet file's rows, sending only what changed."""
    if method not in METHODS:
        raise PublishError(f"Unknown publish method {method!r}: use one of {', '.join(METHODS)}.")
    if chunk_rows < 1 or chunk_bytes < 1024:
        raise PublishError("chunk_rows must be >= 1 and chunk_bytes >= 1024.")
    started = time.monotonic()
    stats0 = client.stats.as_dict()
    result = PublishResult(dataset_id=dataset_id, method=method)
    run_id = state.start_run(dataset_id, method)
    try:
        with _open_parquet(parquet_path) as pf:
            _publish(client, dataset_id, pf, columns, method, row_id, state, chunk_rows,
                     chunk_bytes, allow_new_columns, reconcile, result, run_id)  # fmt: skip
    except BaseException as exc:
        _finish_counts(result, client, stats0, started)
        state.finish_run(run_id, "failed", result.as_dict(), message=str(exc))
        raise
    _finish_counts(result, client, stats0, started)
    state.finish_run(run_id, "succeeded" if result.verified is not False else "unverified",
                     result.as_dict())  # fmt: skip
    return result


def _finish_counts(
    result: PublishResult, client: SocrataClient, stats0: dict[str, int], started: float
) -> None:
    now = client.stats.as_dict()
    result.requests = now["requests"] - stats0["requests"]
    result.retries = now["retries"] - stats0["retries"]
    result.bytes_sent = now["bytes_sent"] - stats0["bytes_sent"]
    result.bytes_received = now["bytes_received"] - stats0["bytes_received"]
    result.seconds = time.monotonic() - started


@contextmanager
def _open_parquet(path: Any) -> Iterator[pq.ParquetFile]:
    if isinstance(path, str | os.PathLike) and not hasattr(path, "protocol"):
        with pq.ParquetFile(os.fspath(path)) as pf:
            yield pf
        return
    with path.open("rb") as fh, pq.ParquetFile(fh) as pf:  # ObjectStoragePath-like
        yield pf


def _publish(
    client: SocrataClient,
    dataset_id: str,
    pf: pq.ParquetFile,
    columns: list[PortalColumn],
    method: str,
    row_id: str | None,
    state: StateStore,
    chunk_rows: int,
    chunk_bytes: int,
    allow_new_columns: bool,
    reconcile: bool,
    result: PublishResult,
    run_id: int,
) -> None:
    metadata = client.get_metadata(dataset_id)
    portal_columns = columns_from_metadata(metadata)
    portal_row_id = row_identifier_from_metadata(metadata)
    source_fields = list(pf.schema_arrow.names)
    to_add = _check_schema(dataset_id, pf, source_fields, columns, portal_columns,
                           allow_new_columns)  # fmt: skip
    keyed, id_field = _key_mode(dataset_id, method, row_id, portal_row_id, columns)
    by_name = {c.field_name: c for c in columns}
    ordered = [by_name[f] for f in source_fields]
    source = _Source(pf, ordered, by_name.get(id_field) if id_field else None,
                     min(chunk_rows, 50_000))  # fmt: skip
    ctx = _Context(client, state, dataset_id, method, source, keyed,
                   f"row_id:{id_field}" if keyed else "content", chunk_rows, chunk_bytes,
                   result, frozenset(c.field_name for c in portal_columns))  # fmt: skip
    if _needs_read_back(ctx, reconcile, run_id):
        _rebuild(ctx)  # reads only: a guard failing below still means nothing was sent
        if reconcile:
            state.mark_reconciled(dataset_id, ctx.key_kind)
    plan = _scan_and_plan(ctx, guards=True)  # guards: nothing has been sent before this returns
    for column in to_add:
        client.add_column(dataset_id, column)
        result.columns_added.append(column.field_name)
    for attempt in range(MAX_REPLANS + 1):
        try:
            _execute(ctx, plan)
        except AmbiguousWriteError:
            if attempt == MAX_REPLANS:
                raise
            result.replans += 1
            _rebuild(ctx)
            plan = _scan_and_plan(ctx)
            continue
        if _verify(ctx) is not False or attempt == MAX_REPLANS:
            break
        result.replans += 1  # the portal disagrees with the fingerprints: read it and repair
        _rebuild(ctx)
        plan = _scan_and_plan(ctx)
    state.compact(dataset_id)
    state.snapshot(dataset_id, min_new_segments=8)  # cheap loads next time; skipped if few


# -- guards ------------------------------------------------------------------------------------


def _check_schema(
    dataset_id: str,
    pf: pq.ParquetFile,
    source_fields: list[str],
    spec: list[PortalColumn],
    portal: list[PortalColumn],
    allow_new_columns: bool,
) -> list[PortalColumn]:
    spec_by = {c.field_name: c for c in spec}
    portal_by = {c.field_name: c for c in portal}
    problems: list[str] = []
    extra = [f for f in source_fields if f not in spec_by]
    if extra:
        problems.append(f"source columns not in the dataset spec: {', '.join(extra)}")
    missing = [c.field_name for c in spec if c.field_name not in source_fields]
    if missing:
        problems.append(f"spec columns missing from the source: {', '.join(missing)}")
    retyped = [
        f"{c.field_name} ({c.data_type} in the spec, {portal_by[c.field_name].data_type} on "
        "the portal)"
        for c in spec
        if c.field_name in portal_by
        and canon.canonical_type(c.data_type)
        != canon.canonical_type(portal_by[c.field_name].data_type)
    ]
    if retyped:
        problems.append(f"columns retyped: {', '.join(retyped)}")
    new = [c for c in spec if c.field_name not in portal_by]
    if new and not allow_new_columns:
        names = ", ".join(c.field_name for c in new)
        problems.append(
            f"columns not on portal dataset {dataset_id}: {names} (set allow_new_columns / "
            "--allow-new-columns to add them)"
        )
    removed = [f for f in portal_by if f not in spec_by]
    if removed:
        problems.append(
            f"portal columns absent from the spec and source: {', '.join(removed)} (add them "
            "back to the source, or remove them from the dataset on the portal)"
        )
    if problems:
        sample = pf.read_row_group(0).slice(0, 2).to_pylist() if pf.num_row_groups else []
        raise PublishError(
            f"Schema drift for dataset {dataset_id}; nothing was sent:\n  - "
            + "\n  - ".join(problems)
            + "\nExample source rows:\n"
            + "\n".join(f"  row {i + 1}: {_short(r)}" for i, r in enumerate(sample))
        )
    return new


def _key_mode(
    dataset_id: str,
    method: str,
    row_id: str | None,
    portal_row_id: str | None,
    columns: list[PortalColumn],
) -> tuple[bool, str | None]:
    """Decide how rows are keyed; the portal must match on the same identifier we key by."""
    if row_id and row_id not in {c.field_name for c in columns}:
        raise PublishError(f"Row identifier column {row_id!r} is not a column of the source.")
    if row_id and portal_row_id and row_id != portal_row_id:
        raise PublishError(
            f"Row identifier {row_id!r} differs from dataset {dataset_id}'s identifier "
            f"{portal_row_id!r} on the portal: pass --row-id {portal_row_id}."
        )
    if method == "append":
        return False, None
    if method == "replace":
        return (True, portal_row_id) if portal_row_id else (False, None)
    if not portal_row_id:
        raise PublishError(
            f"Method {method} needs a row identifier, but dataset {dataset_id} has none on the "
            f"portal{f' (asked for {row_id!r})' if row_id else ''}: set the dataset's row "
            "identifier on the portal, or use method append or replace."
        )
    return True, portal_row_id


def _batch_fingerprints(
    source: _Source, batch: pa.RecordBatch, first: int, problems: canon.TypeProblems | None
) -> tuple[dict[str, pa.Array], np.ndarray, np.ndarray | None]:
    """Canonical arrays, row hashes and (keyed) key hashes of one batch."""
    arrays = {
        c.field_name: canon.canonicalize(batch.column(i), c, first_row=first, problems=problems)
        for i, c in enumerate(source.columns)
    }
    hashes = fingerprints.row_hashes(arrays, source.columns)
    keys = None
    if source.row_id is not None:
        keys = fingerprints.column_hash(arrays[source.row_id.field_name], source.row_id)
    return arrays, hashes, keys


def _scan_and_plan(ctx: _Context, *, guards: bool = False) -> _Plan:
    """Pass 1: type and fingerprint every row, run the guards, and decide what to send.

    Memory stays at two flags a source row plus 8 bytes a new key (and, without a row
    identifier, 8 bytes a row for content hashes), whatever the number of columns.
    """
    source = ctx.source
    problems = canon.TypeProblems()
    typed = _prefetch(_typed_batches(source, problems), depth=2)  # starts while state loads
    fp = ctx.state.load(ctx.dataset_id)
    n_state = len(fp)
    n = source.num_rows
    send = np.zeros(n, bool)
    new = np.zeros(n, bool)
    seen = np.zeros(max(n_state, 1), bool)
    new_keys: list[np.ndarray] = []
    hashes_all: list[np.ndarray] = []
    nulls: list[int] = []
    dup_pos: list[int] = []
    rows_of = fp.rows if n_state else np.zeros(1, np.uint64)
    stash: list[tuple[int, np.ndarray, pa.RecordBatch]] | None = []
    stash_rows = 0
    marked = 0
    for first, batch, arrays, hashes, keys in typed:
        if keys is None or source.row_id is None:
            hashes_all.append(hashes)
            continue
        if len(nulls) < 3:
            id_array = arrays[source.row_id.field_name]
            missing = np.flatnonzero(pc.is_null(id_array).to_numpy(zero_copy_only=False))
            nulls.extend((missing + first).tolist()[: 3 - len(nulls)])
        idx, found = _lookup(fp, keys)
        hit = idx[found]
        again = seen[hit]
        if again.any() and len(dup_pos) < 4:
            dup_pos.extend((np.flatnonzero(found)[again] + first).tolist()[:4])
        seen[hit] = True
        marked += len(hit) - int(again.sum())  # falls behind seen.sum() if hit repeats a key
        changed = found & (rows_of[idx] != hashes)
        wanted = ~found | changed
        send[first : first + len(keys)] = wanted
        if stash is not None:
            local = np.flatnonzero(wanted)
            stash_rows += len(local)
            if stash_rows > STASH_ROWS:
                stash = None
            elif len(local):
                stash.append((first, local, batch.take(pa.array(local))))
        new[first : first + len(keys)] = ~found
        new_keys.append(keys[~found])
    ctx.result.rows_in_source = n
    if n_state and marked != int(seen[:n_state].sum()):
        dup_pos.extend(_repeated_positions(ctx, fp))
    if guards:
        _raise_guards(ctx, problems, nulls, dup_pos, new_keys)
    if source.row_id is None:
        del fp
        return _content_plan(
            ctx, np.concatenate(hashes_all) if hashes_all else np.empty(0, np.uint64)
        )
    deletable = ctx.method in ("sync", "replace") and n_state > 0
    deletes = fp.keys[~seen[:n_state]] if deletable else np.empty(0, np.uint64)
    return _Plan(send=send, new=new, delete_keys=deletes, stash=stash)


def _typed_batches(
    source: _Source, problems: canon.TypeProblems
) -> Iterator[tuple[int, pa.RecordBatch, dict[str, pa.Array], np.ndarray, np.ndarray | None]]:
    """Batches with their canonical arrays and hashes, typed by two threads in file order."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="publish-scan") as pool:
        window: deque[tuple[int, pa.RecordBatch, Future[Any]]] = deque()
        for first, batch in source.raw_batches(SCAN_BATCH):
            job = pool.submit(_batch_fingerprints, source, batch, first, problems)
            window.append((first, batch, job))
            if len(window) >= 3:
                first_done, batch_done, job_done = window.popleft()
                yield (first_done, batch_done, *job_done.result())
        while window:
            first_done, batch_done, job_done = window.popleft()
            yield (first_done, batch_done, *job_done.result())


def _repeated_positions(ctx: _Context, fp: Fingerprints) -> list[int]:
    """Rare path: positions of rows repeating an identifier already on the portal."""
    rid = ctx.source.row_id
    assert rid is not None
    positions: list[int] = []
    seen: set[int] = set()
    for first, batch in ctx.source.raw_batches(SCAN_BATCH):
        arr = canon.canonicalize(batch.column(rid.field_name), rid)
        keys = fingerprints.column_hash(arr, rid)
        _, found = _lookup(fp, keys)
        for pos in np.flatnonzero(found).tolist():
            key = int(keys[pos])
            if key in seen:
                positions.append(first + pos)
            seen.add(key)
        if len(positions) >= 4:
            break
    return positions[:4]


def _raise_guards(
    ctx: _Context,
    problems: canon.TypeProblems,
    nulls: list[int],
    dup_pos: list[int],
    new_keys: list[np.ndarray],
) -> None:
    source = ctx.source
    if problems:
        lines = [
            f"  - {col}: {n} value(s) that are not {_type_of(source, col)}; e.g. "
            + "; ".join(f"row {r + 1}: {v!r}" for r, v in problems.examples[col])
            for col, n in problems.counts.items()
        ]
        first_bad = sorted({ex[0][0] for ex in problems.examples.values() if ex})
        examples = source.rows_at(np.array(first_bad, dtype=np.int64))
        raise PublishError(
            f"Values do not fit the portal's column types in dataset {ctx.dataset_id}; nothing "
            "was sent. Fix the source or the column type:\n"
            + "\n".join(lines)
            + "\nExample rows:\n"
            + "\n".join(f"  row {n}: {_short(r)}" for n, r in examples)
        )
    if source.row_id is None:
        return
    rid = source.row_id.field_name
    if nulls:
        rows = source.rows_at(np.array(nulls))
        raise PublishError(
            f"Row identifier column {rid} is empty in some rows of dataset "
            f"{ctx.dataset_id}; nothing was sent. Every row needs a value. Example rows:\n"
            + "\n".join(f"  row {n}: {_short(r)}" for n, r in rows)
        )
    keys = np.concatenate(new_keys) if new_keys else np.empty(0, np.uint64)
    new_keys.clear()
    keys.sort()  # in place: 8 bytes a new row, no index arrays
    repeated = keys[1:] == keys[:-1]
    if repeated.any() or dup_pos:
        dup_keys = np.unique(keys[1:][repeated])[:2]
        count = int(repeated.sum()) + len(dup_pos)
        del keys, repeated
        examples = _positions_of(ctx, dup_keys) + dup_pos  # rare path: read the file again
        rows = source.rows_at(np.unique(np.array(examples, np.int64)), limit=4)
        raise PublishError(
            f"Row identifier column {rid} has {count} duplicated value(s) in dataset "
            f"{ctx.dataset_id}; nothing was sent. Each {rid} must appear once. Example rows:\n"
            + "\n".join(f"  row {n}: {_short(r)}" for n, r in rows)
        )


def _positions_of(ctx: _Context, wanted: np.ndarray) -> list[int]:
    """Row positions whose identifier hashes to one of `wanted` (error messages only)."""
    rid = ctx.source.row_id
    assert rid is not None
    out: list[int] = []
    for first, batch in ctx.source.raw_batches(SCAN_BATCH):
        keys = fingerprints.column_hash(canon.canonicalize(batch.column(rid.field_name), rid), rid)
        out.extend((np.flatnonzero(np.isin(keys, wanted)) + first).tolist())
    return out[:4]


def _type_of(source: _Source, field_name: str) -> str:
    col = next(c for c in source.columns if c.field_name == field_name)
    return {"number": "numbers", "date": "dates", "bool": "true/false", "point": "points"}.get(
        canon.canonical_type(col.data_type), col.data_type
    )


def _short(row: dict[str, Any], limit: int = 8) -> str:
    items = list(row.items())
    text = ", ".join(f"{k}={v!r}" for k, v in items[:limit])
    return text + (", ..." if len(items) > limit else "")


# -- state and read-back -----------------------------------------------------------------------


def _needs_read_back(ctx: _Context, reconcile: bool, run_id: int) -> bool:
    """Read the portal back when the fingerprints cannot be trusted (or a check was asked)."""
    if reconcile or ctx.state.key_kind(ctx.dataset_id) != ctx.key_kind:
        return True  # first publish, lost state, or rows keyed differently than before
    previous = ctx.state.previous_run(ctx.dataset_id, run_id)
    # An interrupted append may have landed rows we never recorded. (Drift on keyed datasets is
    # caught after sending: _verify compares the portal's row count and repairs.)
    return not ctx.keyed and previous is not None and previous["status"] != "succeeded"


def _portal_count(ctx: _Context) -> int | None:
    try:
        return ctx.client.count_rows(ctx.dataset_id)
    except Exception:  # noqa: BLE001 - a portal without count(*) just skips this cheap check
        return None


def _rebuild(ctx: _Context) -> None:
    """Rebuild the dataset's fingerprints from a paged read of the portal's rows."""
    source = ctx.source
    readable = [c for c in source.columns if c.field_name in ctx.portal_fields]
    select = ",".join(c.field_name for c in readable)
    read = 0
    content: list[np.ndarray] = []

    def pages() -> Iterator[list[dict[str, Any]]]:
        page: list[dict[str, Any]] = []
        for row in ctx.client.read_rows(ctx.dataset_id, select=select, page_size=READ_PAGE):
            page.append(row)
            if len(page) >= READ_PAGE:
                yield page
                page = []
        if page:
            yield page

    def segments() -> Iterator[Segment]:
        nonlocal read
        for page in pages():
            read += len(page)
            arrays = canon.portal_rows_to_arrays(page, source.columns)
            hashes = fingerprints.row_hashes(arrays, source.columns)
            if source.row_id is None:
                content.append(hashes)
                continue
            rid = source.row_id
            keys = fingerprints.column_hash(arrays[rid.field_name], rid)
            ids = fingerprints.key_text(arrays[rid.field_name], rid).to_pylist()
            yield Segment(keys, hashes, np.ones(len(keys), np.int64), ids)
        if source.row_id is None:
            hashes = np.concatenate(content) if content else np.empty(0, np.uint64)
            uniq, counts = np.unique(hashes, return_counts=True)
            yield Segment(uniq, uniq, counts.astype(np.int64))

    ctx.state.replace_all(ctx.dataset_id, segments(), ctx.key_kind)
    ctx.result.rows_read_back += read


# -- plan and execution ------------------------------------------------------------------------


def _lookup(fp: Fingerprints, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index into the fingerprints of each key, and whether it is there."""
    if not len(fp):
        return np.zeros(len(keys), np.int64), np.zeros(len(keys), bool)
    order = np.argsort(keys)  # sorted probes walk the table in order: far fewer cache misses
    idx = np.empty(len(keys), np.int64)
    idx[order] = np.searchsorted(fp.keys, keys[order])
    np.minimum(idx, len(fp) - 1, out=idx)
    return idx, fp.keys[idx] == keys


def _content_plan(ctx: _Context, hashes: np.ndarray) -> _Plan:
    """Rows keyed by content: send each copy the portal lacks (replace: restart if it has extra)."""
    fp = ctx.state.load(ctx.dataset_id)
    rank = _occurrence_rank(hashes)
    idx, found = _lookup(fp, hashes)
    have = np.where(found, fp.counts[idx] if len(fp) else 0, 0)
    full = False
    if ctx.method == "replace" and len(fp):
        uniq, counts = np.unique(hashes, return_counts=True)
        src_idx, in_src = _lookup(Fingerprints(uniq, uniq, counts), fp.keys)
        src_count = np.where(in_src, counts[src_idx] if len(uniq) else 0, 0)
        full = bool(np.any(fp.counts > src_count))  # the portal has rows the file lacks
    send = np.ones(len(hashes), bool) if full else rank >= have
    return _Plan(send=send, new=send, delete_keys=np.empty(0, np.uint64), full_replace=full)


def _occurrence_rank(hashes: np.ndarray) -> np.ndarray:
    """For each row, how many earlier rows have the same content (0 for the first copy)."""
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]] if len(ordered) else np.empty(0, bool)
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(ordered)), 0))
    rank = np.empty(len(hashes), np.int64)
    rank[order] = np.arange(len(ordered)) - group_start
    return rank


@dataclass
class _Chunk:
    """One request's worth of rows, serialized, with the fingerprints to commit on success."""

    body: bytes
    rows: int
    keys: np.ndarray
    hashes: np.ndarray
    ids: list[str | None] | None
    new: int


@dataclass
class _Piece:
    encoded: bytes  # rows' JSON, each followed by a comma
    sizes: np.ndarray  # bytes per row, comma included
    keys: np.ndarray
    hashes: np.ndarray
    ids: list[str | None] | None
    new: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)

    def slice(self, start: int, stop: int) -> _Piece:
        bounds = np.r_[0, np.cumsum(self.sizes)]
        return _Piece(
            self.encoded[int(bounds[start]) : int(bounds[stop])],
            self.sizes[start:stop],
            self.keys[start:stop],
            self.hashes[start:stop],
            None if self.ids is None else self.ids[start:stop],
            self.new[start:stop],
        )


def _execute(ctx: _Context, plan: _Plan) -> None:
    """Pass 2: send the planned rows chunk by chunk, then the deletions.

    A producer thread reads and serializes the next chunks (Arrow releases the GIL) while this
    thread waits on the portal, so the pipeline's own work hides behind the transport.
    """
    result = ctx.result
    result.unchanged = result.rows_in_source - int(plan.send.sum())
    counts: dict[int, int] = {}
    if not ctx.keyed and not plan.full_replace:
        fp = ctx.state.load(ctx.dataset_id)
        counts = dict(zip(fp.keys.tolist(), fp.counts.tolist(), strict=True))
    first_put = plan.full_replace
    for chunk in _prefetch(_chunks(ctx, plan), depth=2):
        _send(ctx, chunk, counts, first_put)
        first_put = False
    if first_put:  # replacing with an empty file: the PUT still has to happen
        empty = _Chunk(b"[]", 0, np.empty(0, np.uint64), np.empty(0, np.uint64), None, 0)
        _send(ctx, empty, counts, True)
    _send_deletes(ctx, plan.delete_keys)


def _prefetch(items: Iterator[T], depth: int) -> Iterator[T]:
    """Run a generator in a thread, `depth` items ahead, starting now; errors reach the consumer."""
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put(("error", exc))

    worker = threading.Thread(target=produce, name="publish-prefetch", daemon=True)
    worker.start()
    return _consume(q, stop, worker)


def _consume(
    q: queue.Queue[tuple[str, Any]], stop: threading.Event, worker: threading.Thread
) -> Iterator[Any]:
    try:
        while True:
            kind, value = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                q.get_nowait()
        worker.join(timeout=5)


def _chunks(ctx: _Context, plan: _Plan) -> Iterator[_Chunk]:
    """Cut the planned rows into chunks of at most chunk_rows rows and chunk_bytes bytes."""
    parts: list[_Piece] = []
    rows = size = 0
    for piece in _planned_rows(ctx, plan):
        start = 0
        while start < len(piece):
            room = ctx.chunk_rows - rows
            cum = np.cumsum(piece.sizes[start : start + room])
            fit = int(np.searchsorted(cum, ctx.chunk_bytes - 2 - size, side="right"))
            if fit == 0 and rows == 0:
                fit = 1  # a single row above the byte limit travels alone
            if fit:
                parts.append(piece.slice(start, start + fit))
                rows += fit
                size += int(cum[fit - 1])
                start += fit
            if fit == 0 or rows >= ctx.chunk_rows:
                yield _make_chunk(parts)
                parts, rows, size = [], 0, 0
    if parts:
        yield _make_chunk(parts)


def _make_chunk(parts: list[_Piece]) -> _Chunk:
    body = b"".join([b"[", *(p.encoded for p in parts)])[:-1] + b"]"  # drop the last comma
    ids = None
    if all(p.ids is not None for p in parts):
        ids = [i for p in parts for i in (p.ids or [])]
    return _Chunk(
        body=body,
        rows=sum(len(p) for p in parts),
        keys=np.concatenate([p.keys for p in parts]),
        hashes=np.concatenate([p.hashes for p in parts]),
        ids=ids,
        new=int(sum(int(p.new.sum()) for p in parts)),
    )


def _planned_rows(ctx: _Context, plan: _Plan) -> Iterator[_Piece]:
    """The rows to send, batch by batch, serialized, with their fingerprints."""
    source = ctx.source
    if not plan.send.any():
        return
    for first, local, taken in plan.stash if plan.stash is not None else _selected(ctx, plan):
        arrays, hashes, keys = _batch_fingerprints(source, taken, first, None)
        encoded, sizes = encoding.string_bytes(
            encoding.row_json(arrays, source.columns, trailer=",")
        )
        ids = None
        if source.row_id is not None:
            rid = source.row_id
            ids = fingerprints.key_text(arrays[rid.field_name], rid).to_pylist()
        yield _Piece(encoded, sizes.astype(np.int64), hashes if keys is None else keys, hashes,
                     ids, plan.new[local + first])  # fmt: skip


def _selected(ctx: _Context, plan: _Plan) -> Iterator[tuple[int, np.ndarray, pa.RecordBatch]]:
    """Reread the file, keeping the rows the plan sends."""
    for first, batch in ctx.source.raw_batches():
        mask = plan.send[first : first + batch.num_rows]
        if not mask.any():
            continue
        local = np.flatnonzero(mask)
        taken = batch if len(local) == batch.num_rows else batch.take(pa.array(local))
        yield first, local, taken


def _send(ctx: _Context, chunk: _Chunk, counts: dict[int, int], put: bool) -> None:
    """Post one chunk; record its fingerprints only once the portal acknowledged it."""
    if put:
        answer = ctx.client.replace(ctx.dataset_id, chunk.body)
    else:
        answer = ctx.client.upsert(ctx.dataset_id, chunk.body, idempotent=ctx.keyed)
    _check_answer(ctx, answer, chunk)
    n = chunk.rows
    if ctx.keyed:
        segment = Segment(chunk.keys, chunk.hashes, np.ones(n, np.int64), chunk.ids)
        ctx.state.apply(ctx.dataset_id, segment, chunk.new, ctx.key_kind)
        ctx.result.created += chunk.new
        ctx.result.updated += n - chunk.new
    else:
        if put:
            counts.clear()
        for h in chunk.hashes.tolist():
            counts[h] = counts.get(h, 0) + 1
        touched = np.array(list(dict.fromkeys(chunk.hashes.tolist())), np.uint64)
        copies = np.array([counts[h] for h in touched.tolist()], np.int64)
        segment = Segment(touched, touched, copies)
        if put:
            ctx.state.replace_all(ctx.dataset_id, [segment], ctx.key_kind)
        else:
            ctx.state.apply(ctx.dataset_id, segment, n, ctx.key_kind)
        ctx.result.created += n
    ctx.result.chunks += 1


def _check_answer(ctx: _Context, answer: dict[str, Any], chunk: _Chunk) -> None:
    errors = answer.get("Errors") or answer.get("errors") or 0
    if isinstance(errors, int) and errors > 0:
        sample = chunk.body[:300].decode(errors="replace")
        raise PublishError(
            f"The portal reported {errors} row error(s) in a chunk for dataset {ctx.dataset_id}"
            f" (answer {answer}); first rows of that chunk: {sample}"
        )


def _send_deletes(ctx: _Context, keys: np.ndarray) -> None:
    if not len(keys) or ctx.source.row_id is None:
        return
    rid = ctx.source.row_id
    numeric = canon.canonical_type(rid.data_type) == "number"
    ids = ctx.state.row_ids(ctx.dataset_id, keys)
    for start in range(0, len(keys), ctx.chunk_rows):
        part = keys[start : start + ctx.chunk_rows].tolist()
        payload = [
            {rid.field_name: _number(ids[k]) if numeric else ids[k], ":deleted": True}
            for k in part
            if ids.get(k) is not None
        ]
        if payload:
            body = msgspec.json.encode(payload)
            ctx.client.upsert(ctx.dataset_id, body)
            ctx.result.chunks += 1
        gone = np.array(part, np.uint64)
        tombstones = Segment(gone, np.zeros(len(gone), np.uint64), np.zeros(len(gone), np.int64))
        ctx.state.apply(ctx.dataset_id, tombstones, -len(payload), ctx.key_kind)
        ctx.result.deleted += len(payload)


def _number(text: str | None) -> int | float | None:
    if text is None:
        return None
    value = float(text)
    return int(value) if value.is_integer() else value


def _verify(ctx: _Context) -> bool | None:
    """Does the portal hold as many rows as the fingerprints say? (None: cannot tell)."""
    portal = _portal_count(ctx)
    ctx.result.portal_rows = portal
    ctx.result.verified = None if portal is None else portal == ctx.state.count(ctx.dataset_id)
    return ctx.result.verified
