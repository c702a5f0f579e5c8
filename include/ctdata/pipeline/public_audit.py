"""`ctdata audit --agency`: the attacker model run on what an agency has made public.

The tables are read from the portal as anyone reads them; earlier releases come from CSV
exports kept in a folder (`DIR/<release>/<portal id or slug>.csv`, one sub-folder per release,
in name order, e.g. by date). Where the pipeline recorded a release in the state store (the
agency running this audit has it), the recorded release stands in for the public copy it
matches: the audit then knows which cells did not change, as the worst-case attacker does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ctdata.disclosure.assess import Assessment, assess
from ctdata.disclosure.published import count_table_release, records_release
from ctdata.disclosure.release import Release
from ctdata.errors import DisclosureError
from ctdata.pipeline.protection import TableKey, linked_domains, records_rule
from ctdata.specs.models import AgencySpec, DatasetSpec

if TYPE_CHECKING:
    import pandas as pd

    from ctdata.disclosure.history import ReleaseHistory
    from ctdata.portal.client import SocrataClient

log = logging.getLogger(__name__)

LATEST = 1_000_000  # the portal's current tables come after every recorded release


@dataclass
class PopulationAudit:
    population: str
    tables: list[str]
    assessment: Assessment | None
    notes: list[str] = field(default_factory=list)


def audit_agency(
    agency: AgencySpec,
    portal_ids: dict[str, str | None],
    client: SocrataClient,
    history_dir: Path | None = None,
    recorded: ReleaseHistory | None = None,
) -> list[PopulationAudit]:
    """One audit per population of the agency (`portal_ids`: slug -> id, None when the
    dataset is not on the portal yet)."""
    out = []
    seen: set[str] = set()
    for dataset in agency.datasets:
        population = agency.population_key(dataset)
        if population in seen:
            continue
        seen.add(population)
        members = [d for d in agency.datasets if agency.population_key(d) == population]
        out.append(_audit_population(agency, population, members, portal_ids, client,
                                     history_dir, recorded))  # fmt: skip
    return out


def _audit_population(
    agency: AgencySpec,
    population: str,
    members: list[DatasetSpec],
    portal_ids: dict[str, str | None],
    client: SocrataClient,
    history_dir: Path | None,
    recorded: ReleaseHistory | None,
) -> PopulationAudit:
    audit = PopulationAudit(population, [str(TableKey(agency.code, d.slug)) for d in members], None)
    public: list[Release] = []
    for dataset in members:
        if dataset.aggregation is None and records_rule(dataset) is None:
            audit.notes.append(f"{dataset.slug}: record level without generalization, not audited")
            continue
        portal_id = portal_ids.get(dataset.slug)
        if portal_id is None:
            audit.notes.append(f"{dataset.slug}: not on the portal yet")
        else:
            frame = _read_portal(client, portal_id, dataset)
            public.append(release_of(agency, dataset, frame, "portal", LATEST))
        public += _kept_exports(agency, dataset, portal_id, history_dir)
    known = recorded.releases(population) if recorded is not None else []
    unmatched = [r for r in public if not any(r.shows_same(k) for k in known)]
    if known:
        audit.notes.append(
            f"{len(known)} releases recorded by the pipeline (with their true values) audited; "
            f"{len(public) - len(unmatched)} of the {len(public)} public copies match one"
        )
    releases = sorted([*known, *unmatched], key=lambda r: r.seq)
    if not releases:
        return audit
    audit.assessment = assess(releases)
    return audit


def release_of(
    agency: AgencySpec, dataset: DatasetSpec, frame: pd.DataFrame, snapshot: str, seq: int
) -> Release:
    """A published table of the dataset as the attacker sees it."""
    name = str(TableKey(agency.code, dataset.slug))
    if dataset.aggregation is not None:
        return count_table_release(frame, dataset.aggregation, name, snapshot, seq)
    rule = records_rule(dataset)
    assert rule is not None
    return records_release(frame, rule, linked_domains(agency, dataset), name, snapshot, seq)


def _read_portal(client: SocrataClient, portal_id: str, dataset: DatasetSpec) -> pd.DataFrame:
    import pandas as pd

    fields = [c.field for c in dataset.columns]
    rows = list(client.read_rows(portal_id, select=", ".join(fields)))
    return pd.DataFrame(rows, columns=fields)


def _kept_exports(
    agency: AgencySpec, dataset: DatasetSpec, portal_id: str | None, history_dir: Path | None
) -> list[Release]:
    """Earlier releases kept as CSV exports: DIR/<release>/<portal id or slug>.csv."""
    import pandas as pd

    if history_dir is None:
        return []
    if not history_dir.is_dir():
        raise DisclosureError(f"--history {history_dir}: not a folder of kept releases")
    out = []
    folders = sorted(p for p in history_dir.iterdir() if p.is_dir())
    for seq, folder in enumerate(folders, start=-len(folders)):
        names = [f"{portal_id}.csv"] if portal_id else []
        for name in [*names, f"{dataset.slug}.csv"]:
            path = folder / name
            if path.is_file():
                try:
                    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
                except (OSError, pd.errors.ParserError) as exc:
                    raise DisclosureError(f"{path}: not a readable CSV export ({exc})") from exc
                out.append(release_of(agency, dataset, _by_field(frame, dataset), folder.name, seq))
                break
    return out


def _by_field(frame: pd.DataFrame, dataset: DatasetSpec) -> pd.DataFrame:
    """Portal exports head columns with display names; the audit reads field names."""
    names = {c.name: c.field for c in dataset.columns}
    return frame.rename(columns={k: v for k, v in names.items() if k in frame.columns})
