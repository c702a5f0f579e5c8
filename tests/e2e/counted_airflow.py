"""The `airflow` command with counters on what a task builds: store engines, portal-id lookups
in the dataset registry, agency spec reads (and parses of the agencies' DAG file, which read
every spec too). `airflow dags test` runs every task in this one
process; the counts are written as JSON to $CTDATA_TEST_COUNTS when it exits.

Usage: python tests/e2e/counted_airflow.py dags test DAG_ID
"""

from __future__ import annotations

import atexit
import collections
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any

counts: collections.Counter[str] = collections.Counter()


def count(holder: Any, name: str, key: Any) -> None:
    original = getattr(holder, name)

    @functools.wraps(original)
    def counted(*args: Any, **kwargs: Any) -> Any:
        counts[key(*args, **kwargs)] += 1
        return original(*args, **kwargs)

    setattr(holder, name, counted)


def main() -> None:
    from ctdata import store
    from ctdata.airflow import dag_factory
    from ctdata.lifecycle.registry import DatasetRegistry
    from ctdata.specs import loader

    count(dag_factory, "register_agency_dags", lambda *_args: "DAG file parses")
    count(store, "create_store_engine", lambda url: "engines")
    count(DatasetRegistry, "portal_id", lambda _self, agency, slug: f"portal id lookups: {slug}")
    # Every read of a spec file, by a task (load_agency) or by a parse (load_all), goes through
    # read_agency.
    count(loader, "read_agency", lambda path: f"spec reads: {os.path.basename(path)}")
    written = Path(os.environ["CTDATA_TEST_COUNTS"])
    atexit.register(lambda: written.write_text(json.dumps(dict(counts))))
    from airflow.__main__ import main as airflow

    sys.argv = ["airflow", *sys.argv[1:]]
    airflow()


if __name__ == "__main__":
    main()
