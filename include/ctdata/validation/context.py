"""One ephemeral GX context per process, reused: building it (and importing GX) is slow.

The context holds a single pandas datasource with a dataframe asset and a whole-dataframe
batch definition; each validation passes its frame as a batch parameter.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

DATASOURCE = "ctdata"
ASSET = "frame"
BATCH_DEFINITION = "whole_frame"

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _batch_definition() -> Any:
    import logging

    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX sets this module's logger to INFO itself ("Created temporary directory ... for
    # ephemeral docs site" on every context): noise in task logs and on the command line.
    logging.getLogger(ProgressBarsConfig.__module__).setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas(DATASOURCE).add_dataframe_asset(ASSET)
    return asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)


def get_batch(frame: Any) -> Any:
    """A GX Batch over `frame` from the shared ephemeral context."""
    with _lock:
        return _batch_definition().get_batch(batch_parameters={"dataframe": frame})


def validate_suites(
    frame: Any,
    suites: list[Any],
    result_format: dict[str, Any],
    parameters: Mapping[str, Any] | None = None,
) -> list[Any]:
    """Validate `frame` against each suite, GX suite parameters (`$PARAMETER`) taken from
    `parameters`; serialised, as the context is shared by threads."""
    with _lock:
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
        return [
            batch.validate(
                suite, result_format=result_format, expectation_parameters=dict(parameters or {})
            )
            for suite in suites
        ]
