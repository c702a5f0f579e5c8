"""The registered datasets, from the agency specs: read once and again only when a spec file
changes, so a page view costs a few `stat` calls rather than parsing every YAML file."""

from __future__ import annotations

import threading
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

    def agency(self, code: str) -> AgencySpec | None:
        return next((a for a in self.agencies if a.code == code), None)


_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[tuple[str, float], ...], Catalog]] = {}


def load_catalog(directory: Path | None = None) -> Catalog:
    """The valid agency specs of the folder (invalid ones show as DAG import errors)."""
    directory = directory or settings.agencies_dir()
    stamp = tuple(sorted((p.name, p.stat().st_mtime) for p in directory.glob("*.yaml")))
    with _lock:
        cached = _cache.get(directory)
        if cached and cached[0] == stamp:
            return cached[1]
    catalog = Catalog.of(load_all(directory).agencies)
    with _lock:
        _cache[directory] = (stamp, catalog)
    return catalog
