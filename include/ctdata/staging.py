"""Parquet files passed between tasks, under a staging root that may be a local folder or object
storage, so the same DAG runs on one machine or on many workers.

Layout: <root>/<agency>/<dataset>/<run>/<step>.parquet. A run's folder holds record-level source
data, so it is removed once the run has published, and a failed run's folder is kept for
debugging only for a limited number of days (`sweep`).

The library knows paths only through `open_path` (a URL -> path object with `open`, `mkdir`,
`iterdir`, `rm`/`unlink`, `stat`): universal-pathlib's `UPath` by default; the Airflow glue
passes `ObjectStoragePath` so that object storage is reached with Airflow's connections.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ctdata import settings
from ctdata.errors import SourceError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)


def open_url(url: str) -> Any:
    """A path object for a local path or storage URL (universal-pathlib), the library's default
    `open_path`; front doors may pass another (Airflow's ObjectStoragePath)."""
    from upath import UPath

    return UPath(url)


def safe_run_id(run_id: str) -> str:
    """A run id usable as a folder name on every storage."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)


@dataclass(frozen=True)
class StagedTable:
    """Where a table was staged, with its row count and column names (a step's summary)."""

    path: str
    rows: int
    columns: list[str]


@dataclass(frozen=True)
class Staging:
    """One staging area (the configured root unless given)."""

    root: str = field(default_factory=lambda: settings.current().staging_root)
    open_path: Callable[[str], Any] = open_url

    def run_dir(self, agency: str, dataset: str, run_id: str) -> Any:
        return self.open_path(self.root) / agency / dataset / safe_run_id(run_id)

    def path(self, agency: str, dataset: str, run_id: str, name: str) -> Any:
        """Where one step's output for one run lives."""
        return self.run_dir(agency, dataset, run_id) / f"{name}.parquet"

    def write_frame(self, frame: pd.DataFrame, path: Any) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            frame.to_parquet(handle, index=False)
        return str(path)

    def read_frame(self, path: str | Any) -> pd.DataFrame:
        import pandas as pd

        with self.open_path(str(path)).open("rb") as handle:
            return pd.read_parquet(handle)

    def write_batches(
        self,
        batches: Iterable[pd.DataFrame],
        path: Any,
        *,
        label: str,
        types: Mapping[str, pa.DataType] | None = None,
    ) -> StagedTable:
        """Stage a table batch by batch (one row group each), so no step holds it whole. The
        file's schema is the first batch's, a column empty there typed by `types` (else
        text); a later batch is cast to it, or SourceError names the column and its rows.
        No batch at all stages an empty file, as an empty frame would."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle, BatchWriter(handle, label, types or {}) as writer:
            for frame in batches:
                writer.write(frame)
        return StagedTable(str(path), writer.rows, writer.columns)

    def iter_frames(
        self, path: str | Any, columns: list[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        """A staged table, batch by batch (`batch_rows` rows each), as pandas frames."""
        import pyarrow.parquet as pq

        rows = settings.current().batch_rows
        with self.open_path(str(path)).open("rb") as handle:
            parquet = pq.ParquetFile(handle)
            if parquet.metadata.num_rows == 0:
                yield parquet.schema_arrow.empty_table().to_pandas()
                return
            for batch in parquet.iter_batches(batch_size=rows, columns=columns):
                yield batch.to_pandas()

    def remove_run(self, agency: str, dataset: str, run_id: str) -> bool:
        """Delete one run's staged files; False when there were none."""
        folder = self.run_dir(agency, dataset, run_id)
        if not folder.exists():
            return False
        _remove_tree(folder)
        return True

    def sweep(self, agency: str, keep: dt.timedelta, now: dt.datetime | None = None) -> list[str]:
        """Delete the agency's run folders last written more than `keep` ago (failed runs kept
        for debugging); returns the folders removed."""
        now = now or dt.datetime.now(dt.UTC)
        base = self.open_path(self.root) / agency
        if not base.exists():
            return []
        removed: list[str] = []
        for dataset_dir in _dirs(base):
            for run_dir in _dirs(dataset_dir):
                written = _newest_write(run_dir)
                if written is not None and now - written > keep:
                    _remove_tree(run_dir)
                    removed.append(str(run_dir))
        return removed


class BatchWriter:
    """One Parquet file written batch by batch with pyarrow's ParquetWriter (`write_batches`)."""

    def __init__(self, handle: Any, label: str, types: Mapping[str, pa.DataType]) -> None:
        self.handle, self.label, self.types = handle, label, types
        self.rows = 0
        self.columns: list[str] = []
        self._writer: Any = None
        self._schema: Any = None

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, kind: object, *_exc: object) -> None:
        if self._writer is None and kind is None:  # no batch: an empty, valid file
            import pandas as pd

            self.write(pd.DataFrame())
        if self._writer is not None:
            self._writer.close()

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._schema = self._first_schema(table.schema)
            self._writer = pq.ParquetWriter(self.handle, self._schema)
            self.columns = list(self._schema.names)
        table = self._cast(table)
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self.rows += table.num_rows

    def _first_schema(self, schema: pa.Schema) -> pa.Schema:
        """The first batch's types; a column with no value in it takes its declared type."""
        import pyarrow as pa

        fields = [
            f.with_type(self.types.get(f.name, pa.string())) if pa.types.is_null(f.type) else f
            for f in schema
        ]
        return pa.schema(fields, metadata=schema.metadata)

    def _cast(self, table: pa.Table) -> pa.Table:
        """A batch in the file's schema: a missing column is empty, a new one is an error."""
        import pyarrow as pa

        first, last = self.rows + 1, self.rows + table.num_rows
        new = [name for name in table.column_names if name not in self._schema.names]
        if new:
            raise SourceError(
                f"{self.label}: column(s) {', '.join(new)} appear in rows {first:,}-{last:,} but "
                f"not in the first rows; select the same columns in every row of the source"
            )
        columns = []
        for field_ in self._schema:
            if field_.name not in table.column_names:
                columns.append(pa.nulls(table.num_rows, field_.type))
                continue
            values = table.column(field_.name)
            try:
                columns.append(values.cast(field_.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                raise SourceError(
                    f"{self.label}: column {field_.name!r} holds {field_.type} values in the "
                    f"first rows but {values.type} values in rows {first:,}-{last:,} that cannot "
                    "be read as such; give the column one type in the source (e.g. CAST it in "
                    "the query)"
                ) from None
        return pa.Table.from_arrays(columns, schema=self._schema)


def _dirs(folder: Any) -> list[Any]:
    return [child for child in folder.iterdir() if child.is_dir()]


def _remove_tree(folder: Any) -> None:
    fs = getattr(folder, "fs", None)
    if fs is not None:
        fs.rm(getattr(folder, "path", str(folder)), recursive=True)
        return
    import shutil

    shutil.rmtree(folder)


def _newest_write(folder: Any) -> dt.datetime | None:
    times = [_modified(child) for child in folder.iterdir()]
    known = [t for t in times if t is not None]
    return max(known) if known else _modified(folder)


def _modified(path: Any) -> dt.datetime | None:
    """Modification time across storages (local files give `mtime`, S3 `LastModified`)."""
    fs = getattr(path, "fs", None)
    info: dict[str, Any] = fs.info(path.path) if fs is not None else {"mtime": path.stat().st_mtime}
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value, dt.UTC)
    return None
