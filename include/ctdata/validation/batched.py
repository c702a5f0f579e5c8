"""Great Expectations suites on a staged table read batch by batch, merged into the result one
whole-frame run gives, so validating a table of millions of rows takes a batch's memory.

Each batch is validated with the suites as it is (GX on a pandas frame), and each expectation's
per-batch results are merged by its kind:

* row by row (`ROW_BY_ROW`: not null, in set, between, regex...): element, missing and
  unexpected counts summed, the percentages taken of the sums, `mostly` applied to the merged
  proportion;
* over the whole table (`WHOLE_TABLE`: row counts, uniqueness of a column or of a compound
  key): computed exactly in the same pass, uniqueness from a 64-bit hash of each row's key
  (the hashes of the table, 8 bytes a row, are all this keeps), duplicates across batches
  included;
* the same in every batch (`EVERY_BATCH`: the column set): the first batch's.

A suite holding any other expectation (the project's own audits, which need the table whole)
is validated on the whole table, as before: such suites check aggregated tables and small
record tables. A table of one batch is validated as it is, nothing merged.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ctdata.validation.context import validate_suites

log = logging.getLogger(__name__)

Frames = Callable[[], Iterable[pd.DataFrame]]  # a fresh read of the table, batch by batch

ROW_BY_ROW = frozenset({
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between", "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex", "expect_column_pair_values_to_be_in_set",
})  # fmt: skip
WHOLE_TABLE = frozenset({
    "expect_table_row_count_to_equal", "expect_table_row_count_to_be_between",
    "expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique",
})  # fmt: skip
EVERY_BATCH = frozenset({"expect_table_columns_to_match_set", "expect_column_to_exist",
                         "expect_table_columns_to_match_ordered_list"})  # fmt: skip


def mergeable(suite: Any) -> bool:
    """Whether every expectation of the suite merges over batches."""
    kinds = ROW_BY_ROW | WHOLE_TABLE | EVERY_BATCH
    return all(e.expectation_type in kinds for e in suite.expectations)


def validate_batches(
    frames: Frames, suites: list[Any], result_format: dict[str, Any], parameters: Mapping[str, Any]
) -> list[Any]:
    """Each suite's result on the whole table read by `frames`, as `validate_suites` gives it
    on one frame of the table."""
    whole = [s.name for s in suites if not mergeable(s)]
    if whole:
        log.info("Suite(s) %s check the table as a whole: validated on the whole table.", whole)
        frame = pd.concat(list(frames()), ignore_index=True)
        return validate_suites(frame, suites, result_format, parameters)
    per_batch: list[list[Any]] = []
    keys = KeyCounts()
    for frame in frames():
        per_batch.append(validate_suites(frame, suites, result_format, parameters))
        keys.add(frame, suites)
    if len(per_batch) == 1:
        return per_batch[0]
    return [merge_suite([b[i] for b in per_batch], keys) for i in range(len(suites))]


class KeyCounts:
    """What the whole-table expectations need, gathered batch by batch: the rows, and per
    unique key (its columns and which rows it leaves out as missing) the hashes of its rows."""

    def __init__(self) -> None:
        self.rows = 0
        self.hashes: dict[Key, list[np.ndarray]] = {}
        self.missing: dict[Key, int] = {}

    def add(self, frame: pd.DataFrame, suites: list[Any]) -> None:
        self.rows += len(frame)
        wanted = {_key_of(e.expectation_type, e.configuration.kwargs) for s in suites
                  for e in s.expectations}  # fmt: skip
        for key in wanted - {None}:
            self._add_key(frame, key)  # type: ignore[arg-type]

    def _add_key(self, frame: pd.DataFrame, key: Key) -> None:
        columns, ignore = key
        if any(c not in frame.columns for c in columns):
            return  # GX reports the missing column itself
        values = frame[list(columns)]
        missing = values.isna()
        if ignore == "never":
            left_out = np.zeros(len(frame), bool)
        elif ignore == "any_value_is_missing":
            left_out = missing.any(axis=1).to_numpy()
        else:
            left_out = missing.all(axis=1).to_numpy()
        hashed = pd.util.hash_pandas_object(values[~left_out], index=False).to_numpy()
        self.hashes.setdefault(key, []).append(hashed)
        self.missing[key] = self.missing.get(key, 0) + int(left_out.sum())

    def duplicated(self, key: Key) -> int:
        """Rows whose key another row also has (every one of them, as GX counts)."""
        found = self.hashes.get(key)
        if not found:
            return 0
        _, counts = np.unique(np.concatenate(found), return_counts=True)
        return int(counts[counts > 1].sum())


Key = tuple[tuple[str, ...], str]


def _key_of(kind: str, kwargs: Mapping[str, Any]) -> Key | None:
    """The key columns of a uniqueness expectation and which rows it leaves out as missing."""
    if kind == "expect_column_values_to_be_unique":
        return (str(kwargs["column"]),), "all_values_are_missing"
    if kind == "expect_compound_columns_to_be_unique":
        ignore = str(kwargs.get("ignore_row_if") or "all_values_are_missing")
        return tuple(map(str, kwargs["column_list"])), ignore
    return None


def merge_suite(results: list[Any], keys: KeyCounts) -> Any:
    """One suite's per-batch results as one result of the whole table."""
    merged = copy.deepcopy(results[0])
    for i, result in enumerate(merged.results):
        kind = result.expectation_config.type
        parts = [r.results[i] for r in results]
        if any(p.expectation_config.type != kind for p in parts):
            raise RuntimeError("GX returned a suite's results in different orders per batch")
        raised = [p for p in parts if _raised(p.exception_info)]
        if raised:
            result.exception_info, result.success = raised[0].exception_info, False
        elif kind in ROW_BY_ROW:
            _summed(result, [p.result for p in parts])
        elif kind in WHOLE_TABLE:
            _whole_table(result, keys)
        else:  # EVERY_BATCH: the same answer in each batch
            result.success = all(p.success for p in parts)
    passed = sum(bool(r.success) for r in merged.results)
    merged.success = passed == len(merged.results)
    merged.statistics.update(
        successful_expectations=passed,
        unsuccessful_expectations=len(merged.results) - passed,
        success_percent=passed / len(merged.results) * 100 if merged.results else None,
    )
    return merged


def _raised(info: Any) -> bool:
    """GX puts either one exception dict or one per failed metric in exception_info."""
    if not isinstance(info, dict) or not info:
        return False
    if "raised_exception" in info:
        return bool(info["raised_exception"])
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())


def _summed(result: Any, bodies: list[dict[str, Any]]) -> None:
    counts = {k: sum(int(b.get(k) or 0) for b in bodies) for k in ("element_count",
              "unexpected_count", "missing_count")}  # fmt: skip
    has_missing = "missing_count" in bodies[0]
    _set_counts(result, counts["element_count"], counts["unexpected_count"],
                counts["missing_count"] if has_missing else None)  # fmt: skip


def _whole_table(result: Any, keys: KeyCounts) -> None:
    config = result.expectation_config
    kind, kwargs = config.type, config.kwargs
    if kind.startswith("expect_table_row_count"):
        result.result["observed_value"] = keys.rows
        result.success = _row_count_ok(kind, kwargs, keys.rows)
        return
    key = _key_of(kind, kwargs)
    assert key is not None
    _set_counts(result, keys.rows, keys.duplicated(key), keys.missing.get(key, 0))


def _set_counts(result: Any, element: int, unexpected: int, missing: int | None) -> None:
    """GX's counts and percentages of a row-by-row expectation, and `mostly` applied."""
    body = result.result
    body.update(element_count=element, unexpected_count=unexpected)
    counted = element
    if missing is not None:
        counted = element - missing
        body.update(
            missing_count=missing,
            missing_percent=_percent(missing, element),
            unexpected_percent_total=_percent(unexpected, element),
            unexpected_percent_nonmissing=_percent(unexpected, counted),
        )
    body["unexpected_percent"] = _percent(unexpected, counted)
    mostly = float(result.expectation_config.kwargs.get("mostly") or 1.0)
    result.success = counted == 0 or (1 - unexpected / counted) >= mostly


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _row_count_ok(kind: str, kwargs: Mapping[str, Any], rows: int) -> bool:
    if kind == "expect_table_row_count_to_equal":
        return rows == kwargs["value"]
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    above = low is None or (rows > low if kwargs.get("strict_min") else rows >= low)
    below = high is None or (rows < high if kwargs.get("strict_max") else rows <= high)
    return above and below
