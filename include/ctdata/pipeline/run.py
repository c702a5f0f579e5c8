"""One run of an agency's datasets, as every step is given it: built once per task by a front
door (the Airflow task, or the command line without Airflow) and handed down.

A `DatasetRun` carries the agency and dataset spec, the run id, the staging area, the state
store and the portal clients. It settles the dataset's portal id once (the spec's pin, else the
id onboarding recorded), and writes each step's outcome to the monitoring ledger
(`record`, `record_failure`, `close_ledger`). An `AgencyRun` is the same without a dataset,
for steps that serve the whole agency (staging sweeps, steps over several datasets).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ctdata.clock import state_date
from ctdata.connections import ConnectionLookup, environment_connection
from ctdata.errors import ConfigurationError, CtDataError, ValidationFailed
from ctdata.staging import Staging
from ctdata.store import Store

if TYPE_CHECKING:
    from ctdata.disclosure.history import ReleaseHistory
    from ctdata.lifecycle.registry import DatasetRegistry
    from ctdata.monitoring.ledger import Ledger, RunKey
    from ctdata.portal.client import SocrataClient
    from ctdata.publishing.state import PublishingState
    from ctdata.specs import AgencySpec, DatasetSpec

log = logging.getLogger(__name__)


class NotDue(CtDataError):
    """The step found nothing to do in this run (e.g. the dataset is not due): the steps after
    it are skipped, and nothing is recorded."""


class PortalClients:
    """The run's portal clients by connection id: each opened when first asked for and closed
    with the run."""

    def __init__(self, open_client: Callable[[str], SocrataClient]) -> None:
        self._open = open_client
        self._clients: dict[str, SocrataClient] = {}
        self._owned = True

    @classmethod
    def of(cls, client: SocrataClient) -> PortalClients:
        """One client, already open, for every connection id; its owner closes it."""
        clients = cls(lambda _conn_id: client)
        clients._owned = False
        return clients

    def __call__(self, conn_id: str) -> SocrataClient:
        if conn_id not in self._clients:
            self._clients[conn_id] = self._open(conn_id)
        return self._clients[conn_id]

    def close(self) -> None:
        clients, self._clients = self._clients, {}
        if self._owned:
            for client in clients.values():
                client.close()


def _no_portal(conn_id: str) -> SocrataClient:
    raise ConfigurationError(f"this run has no portal connection (asked for {conn_id!r})")


@dataclass(kw_only=True, eq=False)
class AgencyRun:
    """What a step of an agency's run is given; a front door builds it once per task."""

    agency: AgencySpec
    run_id: str  # the Airflow run id (or the command line's `plan-...`)
    staging: Staging = field(default_factory=Staging)
    store: Store = field(default_factory=Store)
    portals: PortalClients = field(default_factory=lambda: PortalClients(_no_portal))
    connections: ConnectionLookup = environment_connection
    dag_id: str = ""
    attempt: int = 1  # Airflow's try number
    run_date: dt.date = field(default_factory=state_date)  # the run's date on the state's clock
    scheduled_for: dt.datetime | None = None  # when the schedule asked for it; None: by hand
    dry_run: bool = False  # show what publishing would change, send nothing

    def __enter__(self) -> AgencyRun:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the portal clients the run opened."""
        self.portals.close()

    def dataset_run(self, slug: str) -> DatasetRun:
        """The run of one of the agency's datasets, sharing this run's store and clients."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(AgencyRun)}
        return DatasetRun(**values, dataset=self.agency.dataset(slug))

    @property
    def portal(self) -> SocrataClient:
        """The agency's portal client (its `socrata_conn_id`)."""
        return self.portals(self.agency.socrata_conn_id)

    @cached_property
    def registry(self) -> DatasetRegistry:
        from ctdata.lifecycle.registry import DatasetRegistry

        return DatasetRegistry(self.store.url)

    @cached_property
    def ledger(self) -> Ledger:
        from ctdata.monitoring.ledger import Ledger

        return Ledger(self.store.url)

    @cached_property
    def publishing_state(self) -> PublishingState:
        """The publisher's part of the store: published-row fingerprints and its journal."""
        from ctdata.publishing.state import PublishingState

        return PublishingState(self.store.url)

    @cached_property
    def releases(self) -> ReleaseHistory:
        """Every release the agency's populations made public, with the true values behind
        them (what disclosure protection over time rests on)."""
        from ctdata.disclosure.history import ReleaseHistory

        return ReleaseHistory(self.store.engine)


@dataclass(kw_only=True, eq=False)
class DatasetRun(AgencyRun):
    """One dataset's run: the agency run plus the dataset, its portal id and its ledger."""

    dataset: DatasetSpec
    _portal_id: str | None = field(default=None, init=False, repr=False)
    _settled: bool = field(default=False, init=False, repr=False)
    _rekeyed: bool = field(default=False, init=False, repr=False)

    @property
    def slug(self) -> str:
        return self.dataset.slug

    # -- the portal id ------------------------------------------------------------------------

    @property
    def portal_id(self) -> str | None:
        """Which portal dataset this is, settled once: the id the spec pins, else the one the
        onboard step recorded when it created the dataset (None: not created yet)."""
        if not self._settled:
            pinned = self.dataset.portal_id
            self._portal_id = pinned or self.registry.portal_id(self.agency.code, self.slug)
            self._settled = True
        return self._portal_id

    def require_portal_id(self) -> str:
        """The portal id, for steps that cannot go on without the dataset on the portal."""
        if self.portal_id is None:
            raise ConfigurationError(
                f"dataset {self.agency.code}/{self.slug} is not on the portal yet: its DAG's "
                "onboard task creates it on the first run (or pin its id with portal_id in the "
                "spec)"
            )
        return self.portal_id

    def settle_portal_id(self, portal_id: str) -> None:
        """Onboarding found or created the dataset: it is `portal_id` from now on."""
        self._portal_id, self._settled = portal_id, True

    @property
    def on_portal(self) -> DatasetSpec:
        """The dataset spec carrying its settled portal id (for code that reads the spec's)."""
        if self.dataset.portal_id or self.portal_id is None:
            return self.dataset
        return self.dataset.model_copy(update={"portal_id": self.portal_id})

    # -- the monitoring ledger ----------------------------------------------------------------

    @property
    def provisional_key(self) -> str:
        from ctdata.lifecycle.registry import provisional_key

        return provisional_key(self.agency.code, self.slug)

    @property
    def ledger_key(self) -> str:
        """The id the ledger, the Open Data view and the alerts file the dataset under: its
        portal id, or `<agency>.<slug>` while the pipeline has not created it."""
        return self.portal_id or self.provisional_key

    def _run_key(self) -> RunKey:
        """This run's ledger key. Once a dataset the pipeline created has its id, the runs filed
        under `<agency>.<slug>` before (this run's first steps among them) move to it, so the
        run is one record however far it got."""
        from ctdata.monitoring.ledger import RunKey

        key = self.ledger_key
        if self.dataset.portal_id is None and key != self.provisional_key and not self._rekeyed:
            self.ledger.rekey(self.provisional_key, key)
            self._rekeyed = True
        return RunKey(self.agency.code, self.slug, key, self.dag_id, self.run_id)

    def record(self, step: str, result: Any) -> None:
        """Keep a step's summary (its result) in the ledger. A ledger that cannot be written
        never fails the publication: that is logged and the run goes on."""
        summary = result if isinstance(result, dict) else {"value": result}
        self._guarded(
            lambda: self.ledger.record_step(self._run_key(), step, summary, attempt=self.attempt)
        )

    def record_failure(self, step: str, error: BaseException, *, final: bool) -> None:
        """Keep why a step failed, in words without data values (`ctdata.monitoring.reasons`);
        a failed validation adds its failing expectations, with counts. `final`: no retry is
        left, so the run has failed."""

        def write() -> None:
            from ctdata.monitoring.reasons import (
                error_type,
                failure_reason,
                kept_validation_reason,
                root_error,
            )

            validation, reason = None, failure_reason(error)
            if isinstance(root_error(error), ValidationFailed):
                validation = self.kept_validation(step.removeprefix("validate_"))
                reason = kept_validation_reason(reason, validation)
            self.ledger.record_failure(
                self._run_key(), step, error_type(error), reason,
                attempt=self.attempt, final=final, validation=validation,
            )  # fmt: skip

        self._guarded(write)

    def close_ledger(self) -> dict[str, Any] | None:
        """The run once all its tasks are done, as the ledger holds it (None: no step ran)."""
        return self.ledger.close(self._run_key().dataset_id, self.run_id)

    def kept_validation(self, stage: str) -> dict[str, Any] | None:
        """A validation stage's summary as this run's validate step kept it (counts only)."""
        from ctdata.validation import ResultArchive

        store = ResultArchive(open_path=self.staging.open_path)
        return store.load(self.agency.code, self.slug, self.run_id).get(stage)

    @staticmethod
    def _guarded(action: Callable[[], object]) -> None:
        try:
            action()
        except Exception:  # noqa: BLE001 - monitoring must not fail a publication
            log.exception("Could not write the monitoring ledger (the publication goes on)")
