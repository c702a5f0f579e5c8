"""A validation result as a Great Expectations Data Docs page (static HTML).

GX's own site builder writes through its stores (local folder, boto3, GCS, Azure) and keeps an
index; here each page is rendered with GX's renderer and view and handed to the `ResultStore`,
which writes through fsspec like the staging area does. The result must be redacted first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def render_page(suite_result: Any, title: str, run_id: str, finished: dt.datetime) -> str:
    """The GX Data Docs HTML of one suite's (redacted) validation result."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    suite_result.meta["run_id"] = {
        "run_name": f"{title} {run_id}",
        "run_time": finished.isoformat(),
    }
    document = ValidationResultsPageRenderer().render(suite_result)
    return DefaultJinjaPageView().render(document)
