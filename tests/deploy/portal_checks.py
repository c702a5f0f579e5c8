"""What the deployment tests check on the portal: a dataset holds exactly the rows the pipeline
derives from the source (no duplicate, nothing missing, every value equal). The expected rows
come from the pipeline's own steps run here, on the same source and settings, with a local
staging folder: the cluster deletes its staged files once a run has published."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ctdata.demo.environment import ADMIN, APP_TOKEN


def portal_client(portal_url: str) -> Any:
    """The stand-in's administrator through real sodapy (sees private drafts too)."""
    from socrata_emulator.testing import sodapy_client

    address = SimpleNamespace(host=portal_url.split("://", 1)[1])
    return sodapy_client(address, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)


def expected_rows(spec_path: Path, slug: str, work: Path) -> Any:
    """The publishable table of one dataset, from its source (CTDATA_* settings as the cluster's:
    the caller sets CTDATA_VAR_DIR and CTDATA_PSEUDONYM_KEY)."""
    from ctdata.pipeline.flow import make_publishable
    from ctdata.pipeline.run import AgencyRun
    from ctdata.specs import load_agency
    from ctdata.staging import Staging

    staging = Staging(root=f"file://{work}")
    run = AgencyRun(agency=load_agency(spec_path), run_id="expected", staging=staging)
    return staging.read_frame(make_publishable(run.dataset_run(slug))["path"])


def normalized(value: Any) -> Any:
    """The portal returns numbers as strings and omits nulls; compare on common ground."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def rows_by_id(rows: list[dict[str, Any]], row_id: str) -> dict[str, dict[str, Any]]:
    keyed: dict[str, dict[str, Any]] = {}
    for row in rows:
        values = {k: normalized(v) for k, v in row.items() if not k.startswith(":")}
        keyed[str(row[row_id])] = {k: v for k, v in values.items() if v is not None}
    return keyed


def assert_portal_equals(client: Any, dataset_id: str, frame: Any, row_id: str) -> None:
    portal = list(client.get_all(dataset_id, order=":id"))
    assert len(portal) == len(frame), f"{dataset_id}: {len(portal)} rows, expected {len(frame)}"
    expected = rows_by_id(frame.to_dict("records"), row_id)
    actual = rows_by_id(portal, row_id)
    assert len(actual) == len(portal), f"{dataset_id}: duplicate row identifiers on the portal"
    assert actual.keys() == expected.keys(), f"{dataset_id}: missing or extra rows"
    different = [key for key in expected if actual[key] != expected[key]]
    assert not different, f"{dataset_id}: {len(different)} rows differ, e.g. {different[:3]}"
