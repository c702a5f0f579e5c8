"""The registered datasets, from the agency specs: read once and again only when a spec file
changes (checked at most every few seconds), so a page view neither parses nor stats every
YAML file."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ctdata import settings
from ctdata.specs import AgencySpec, DatasetSpec, load_all


@dataclass(frozen=True)
class Entry:
    agency: AgencySpec
    dataset: DatasetSpec


@dataclass(frozen=True)
class Catalog:
    agencies: list[AgencySpec]
    entries: dict[str, Entry] = field(default_factory=dict)  # by portal id

    @classmethod
    def of(cls, agencies: list[AgencySpec]) -> Catalog:
        entries = {d.portal_id: Entry(a, d) for a in agencies for d in a.datasets}
        return cls(list(agencies), entries)


RECHECK_SECONDS = 5.0

_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[tuple[str, float], ...], float, Catalog]] = {}


def load_catalog(directory: Path | None = None) -> Catalog:
    """The valid agency specs of the folder (invalid ones show as DAG import errors)."""
    directory = directory or settings.agencies_dir()
    with _lock:
        cached = _cache.get(directory)
    if cached and time.monotonic() - cached[1] < RECHECK_SECONDS:
        return cached[2]
    stamp = tuple(sorted((p.name, p.stat().st_mtime) for p in directory.glob("*.yaml")))
    catalog = (
        cached[2] if cached and cached[0] == stamp else Catalog.of(load_all(directory).agencies)
    )
    with _lock:
        _cache[directory] = (stamp, time.monotonic(), catalog)
    return catalog
