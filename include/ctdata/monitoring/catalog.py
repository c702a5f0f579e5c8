"""The registered datasets, from the agency specs and the ids the pipeline recorded when it
created datasets: specs are parsed again only when a file changes, and both are checked at most
every few seconds, so a page view neither parses nor stats every YAML file."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ctdata import settings
from ctdata.lifecycle.registry import dataset_key, with_portal_ids
from ctdata.specs import AgencySpec, DatasetSpec, load_all


@dataclass(frozen=True)
class Entry:
    agency: AgencySpec
    dataset: DatasetSpec


@dataclass(frozen=True)
class Catalog:
    agencies: list[AgencySpec]
    entries: dict[str, Entry] = field(default_factory=dict)  # by ctdata.lifecycle dataset_key

    @classmethod
    def of(cls, agencies: list[AgencySpec]) -> Catalog:
        """`agencies` with the recorded portal ids filled in (`with_portal_ids`)."""
        entries = {dataset_key(a.code, d): Entry(a, d) for a in agencies for d in a.datasets}
        return cls(list(agencies), entries)


RECHECK_SECONDS = 5.0

_lock = threading.Lock()
_Stamp = tuple[tuple[str, float], ...]
_specs: dict[Path, tuple[_Stamp, list[AgencySpec]]] = {}
_cache: dict[Path, tuple[float, Catalog]] = {}


def load_catalog(directory: Path | None = None) -> Catalog:
    """The valid agency specs of the folder (invalid ones show as DAG import errors)."""
    directory = directory or settings.agencies_dir()
    with _lock:
        cached = _cache.get(directory)
    if cached and time.monotonic() - cached[0] < RECHECK_SECONDS:
        return cached[1]
    agencies = with_portal_ids(_agency_specs(directory))
    catalog = cached[1] if cached and cached[1].agencies == agencies else Catalog.of(agencies)
    with _lock:
        _cache[directory] = (time.monotonic(), catalog)
    return catalog


def _agency_specs(directory: Path) -> list[AgencySpec]:
    stamp = tuple(sorted((p.name, p.stat().st_mtime) for p in directory.glob("*.yaml")))
    with _lock:
        known = _specs.get(directory)
    if known and known[0] == stamp:
        return known[1]
    agencies = load_all(directory).agencies
    with _lock:
        _specs[directory] = (stamp, agencies)
    return agencies
