"""The registered datasets, from the agency specs and the ids the pipeline recorded when it
created datasets: specs are parsed again only when a file changes, and both are checked at most
every few seconds, so a page view neither parses nor stats every YAML file.

OPM's own datasets (the usage and scorecard datasets, the registers, the run log) are listed as
one more agency, `opm_program`, whose datasets OPM's DAGs publish: those who may read the
`usage_metrics` DAG see them."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ctdata import settings
from ctdata.lifecycle.registry import DatasetRegistry, provisional_key, with_portal_ids
from ctdata.specs import AgencySpec, DatasetSpec, load_all

PROGRAM = "opm_program"
PROGRAM_NAME = "Office of Policy and Management: open data program"
PROGRAM_DAG = "usage_metrics"
# Who publishes each of OPM's own datasets (by slug): a DAG, or the agency runs' steps.
PROGRAM_PUBLISHERS = {
    "dataset_usage": "the usage_metrics DAG",
    "agency_scorecard": "the usage_metrics DAG",
    "high_value_inventory": "the inventories DAG",
    "access_plans": "the inventories DAG",
    "data_officers": "the inventories DAG",
    "retired_assets": "the retire step of each retiring dataset",
    "pipeline_runs": "the finish_run step of every agency run",
}


@dataclass(frozen=True)
class Entry:
    agency: AgencySpec
    dataset: DatasetSpec


@dataclass(frozen=True)
class Catalog:
    """The datasets by their key (ctdata.lifecycle.registry `dataset_key`), and the agencies as
    the portal knows them: each dataset the pipeline created carries its recorded id."""

    agencies: list[AgencySpec]
    entries: dict[str, Entry] = field(default_factory=dict)
    # The key a dataset the pipeline has created since had before (`<agency>.<slug>`) -> its
    # id, so a link sent before its first run (an alert, the digest) still finds it.
    renamed: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, specs: list[AgencySpec], registry: DatasetRegistry) -> Catalog:
        """The specs' datasets, with the ids `registry` recorded for those it created."""
        return cls.resolved(specs, with_portal_ids(specs, registry))

    @classmethod
    def resolved(cls, specs: list[AgencySpec], agencies: list[AgencySpec]) -> Catalog:
        """`agencies`: `specs` after `with_portal_ids` (so keys need no further query)."""
        entries, renamed = {}, {}
        for spec, agency in zip(specs, agencies, strict=True):
            for pinned, dataset in zip(spec.datasets, agency.datasets, strict=True):
                before = provisional_key(agency.code, dataset.slug)
                key = dataset.portal_id or before
                entries[key] = Entry(agency, dataset)
                if dataset.portal_id and not pinned.portal_id:
                    renamed[before] = key
        return cls(list(agencies), entries, renamed)

    @staticmethod
    def dag_of(agency: AgencySpec) -> str:
        """The DAG whose readers may see the agency's datasets."""
        return PROGRAM_DAG if agency.code == PROGRAM else agency.dag_id

    def find(self, key: str) -> tuple[str, Entry] | None:
        """The dataset filed under `key` (or under the id it has had since): (its key, entry)."""
        key = self.renamed.get(key, key)
        entry = self.entries.get(key)
        return (key, entry) if entry else None


RECHECK_SECONDS = 5.0

_lock = threading.Lock()
_Stamp = tuple[tuple[str, float], ...]
_specs: dict[Path, tuple[_Stamp, list[AgencySpec]]] = {}
_cache: dict[tuple[Path, str], tuple[float, Catalog]] = {}
_registries: dict[str, DatasetRegistry] = {}


def load_catalog(directory: Path | None = None, state_url: str | None = None) -> Catalog:
    """The valid agency specs of the folder (invalid ones show as DAG import errors), with the
    ids recorded in the state store (`state_url`, the configured one by default)."""
    directory = directory or settings.current().agencies_dir
    state_url = state_url or settings.current().state_url
    with _lock:
        cached = _cache.get((directory, state_url))
    if cached and time.monotonic() - cached[0] < RECHECK_SECONDS:
        return cached[1]
    specs = [*_agency_specs(directory), *_program()]
    agencies = with_portal_ids(specs, _registry(state_url))
    if cached and cached[1].agencies == agencies:
        catalog = cached[1]
    else:
        catalog = Catalog.resolved(specs, agencies)
    with _lock:
        _cache[(directory, state_url)] = (time.monotonic(), catalog)
    return catalog


def _registry(state_url: str) -> DatasetRegistry:
    """One registry (engine) per state store for the process's page views."""
    with _lock:
        if state_url not in _registries:
            _registries[state_url] = DatasetRegistry(state_url)
        return _registries[state_url]


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


def _program() -> list[AgencySpec]:
    """OPM's own datasets as one agency (none when the configs cannot be read: the pages of
    the agencies still work, and the usage_metrics DAG reports the config error)."""
    from ctdata.errors import SpecError
    from ctdata.metrics.config import load_metrics_config
    from ctdata.monitoring.run_log import run_log_agency
    from ctdata.specs.registers import load_registers_config

    try:
        parts = [load_metrics_config().agency(), load_registers_config().agency()]
    except SpecError:
        return []
    if settings.current().run_log_dataset_id:
        parts.append(run_log_agency())
    datasets = [d for part in parts for d in part.datasets]
    return [
        parts[0].model_copy(update={"code": PROGRAM, "name": PROGRAM_NAME, "datasets": datasets})
    ]
