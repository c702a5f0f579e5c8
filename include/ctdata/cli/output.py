"""What a `ctdata` command writes where, so that scripts can use it: results (a table, the JSON
of `--json`) alone on stdout, everything else (logs of the pipeline, Airflow, Great
Expectations, sodapy) on stderr.

`results_on_stdout` is the command's frame: while it runs, `sys.stdout` is stderr, so a library
that prints or logs to "stdout" (Airflow configures its log handler on the stdout of the moment
it is imported) cannot mix with the results; commands write results through `echo`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

_results: TextIO | None = None
# Libraries whose INFO logs are noise to a person at a terminal ("Skipping registering function
# ...", "Created temporary directory ... for ephemeral docs site").
QUIET_LOGGERS = ("great_expectations", "sodapy", "urllib3", "fsspec", "numexpr")


def echo(text: str = "", *, end: str = "\n") -> None:
    """Write a result to stdout (the real one, also while `results_on_stdout` runs)."""
    stream = _results or sys.stdout
    stream.write(text + end)
    stream.flush()


def echo_json(value: Any) -> None:
    echo(json.dumps(value, indent=2, default=str))


@contextmanager
def results_on_stdout() -> Iterator[None]:
    global _results
    saved, _results = _results, sys.stdout
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stdout, _results = _results, saved


def configure_logging(verbosity: int = 0) -> None:
    """Logs to stderr: ctdata's at INFO (WARNING with -q), the libraries' at WARNING (INFO
    with -v). Airflow, when a command imports it, configures its own handler; its level for
    the noisy libraries comes from `[logging] namespace_levels`, set here unless given."""
    library_level = logging.INFO if verbosity > 0 else logging.WARNING
    ctdata_level = logging.WARNING if verbosity < 0 else logging.INFO
    logging.basicConfig(
        stream=sys.stderr, level=library_level, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("ctdata").setLevel(ctdata_level)
    quiet = " ".join(f"{name}={logging.getLevelName(library_level)}" for name in QUIET_LOGGERS)
    os.environ.setdefault("AIRFLOW__LOGGING__NAMESPACE_LEVELS", quiet)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(library_level)
