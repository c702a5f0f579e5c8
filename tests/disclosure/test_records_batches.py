"""A record-level table generalized batch by batch (read again from its staged file) is the
table generalized whole: the same cube, the same release and the same published records,
whatever the batch size, with a quasi-identifier whose whole numbers arrive as floats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ctdata.disclosure.joint import protect
from ctdata.pipeline.protection import StagedRecords, member_for
from ctdata.staging import Staging


def _staged(frame: pd.DataFrame, folder: Path) -> StagedRecords:
    staging = Staging(f"file://{folder}")
    path = staging.path("ocme", "deaths_records", "run", "source")
    return StagedRecords(staging, staging.write_frame(frame, path))


@pytest.mark.parametrize("batch_rows", [97, 1000, 100_000])
def test_batched_generalization_equals_the_whole_one(
    ocme, deaths: pd.DataFrame, tmp_path: Path, monkeypatch, batch_rows: int
) -> None:
    monkeypatch.setenv("CTDATA_BATCH_ROWS", str(batch_rows))
    records = deaths.assign(year=deaths.year.astype(float))  # 2012.0: labelled "2012"
    records.loc[records.index[-1], "year"] = np.nan  # an empty value: "Unknown", in one batch
    dataset = ocme.dataset("deaths_records")
    whole = member_for(ocme, dataset, records)
    batched = member_for(ocme, dataset, _staged(records, tmp_path))
    assert batched.cube.domains == whole.cube.domains
    pd.testing.assert_frame_equal(batched.cube.cells, whole.cube.cells)

    mask = protect([whole], [], snapshot="r1", seq=1).masks[whole.table]
    pieces = list(batched.publish_batches(mask))
    assert len(pieces) == -(-len(records) // batch_rows)
    expected = whole.publish(mask)
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), expected)
    assert (expected[list(whole.cube.rule.generalize)] == whole.cube.rule.label).any().any()
    released = batched.release("r1", 1, mask).cells
    pd.testing.assert_frame_equal(released, whole.release("r1", 1, mask).cells)
