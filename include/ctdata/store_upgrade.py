"""Bring the state and metrics store's schema up to date, and say whether it is: the interface
`ctdata doctor` (`--upgrade`), each run's preflight and the set-up steps call.

Interim implementation until the store's Alembic migrations land (issue 18): `upgrade_store`
creates the tables a store lacks and `schema_gaps` compares the store with the tables the code
defines. The migrations replace both bodies (upgrade to head; revisions not yet applied), and
nobody writes SQL by hand either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctdata.preflight import Finding

if TYPE_CHECKING:
    from sqlalchemy import MetaData


def store_metadata() -> list[MetaData]:
    """The tables of every store sharing CTDATA_STATE_URL."""
    from ctdata.lifecycle import registry
    from ctdata.metrics import attention
    from ctdata.metrics import store as metrics
    from ctdata.monitoring import ledger as monitoring
    from ctdata.publishing import ledger as publishing
    from ctdata.publishing import state  # noqa: F401 - defines its tables on ledger.metadata

    return [publishing.metadata, registry.metadata, monitoring.metadata, metrics.metadata,
            attention.metadata]  # fmt: skip


def schema_gaps(url: str) -> list[str]:
    """What the store at `url` lacks of the schema the code expects ([] when current)."""
    import sqlalchemy as sa

    from ctdata.store import create_store_engine

    engine = create_store_engine(url)
    try:
        inspector = sa.inspect(engine)
        present = set(inspector.get_table_names())
        gaps = []
        for metadata in store_metadata():
            for table in metadata.sorted_tables:
                if table.name not in present:
                    gaps.append(f"table {table.name} is missing")
                    continue
                have = {c["name"] for c in inspector.get_columns(table.name)}
                lacking = [c.name for c in table.columns if c.name not in have]
                if lacking:
                    gaps.append(f"table {table.name} lacks column(s) {', '.join(lacking)}")
        return gaps
    finally:
        engine.dispose()


def upgrade_store(url: str) -> list[str]:
    """Upgrade the store at `url` to the schema the code expects; returns what was done."""
    from ctdata.store import create_store_engine

    before = schema_gaps(url)
    engine = create_store_engine(url)
    try:
        for metadata in store_metadata():
            metadata.create_all(engine)
    finally:
        engine.dispose()
    left = schema_gaps(url)
    if left:
        from ctdata.errors import ConfigurationError

        raise ConfigurationError(
            f"the store needs a migration this version cannot apply: {'; '.join(left)}"
        )
    return [gap.replace("is missing", "created") for gap in before]


def state_store_findings(url: str, *, create_missing_tables: bool = False) -> list[Finding]:
    """The store answers and its schema is the one the code expects. With
    `create_missing_tables` (a run's preflight) a store without some of the tables (a new one)
    gets them, as the stores always made theirs on first use; anything else is reported."""
    import sqlalchemy as sa

    from ctdata.store import redacted

    subject = f"state store {redacted(url)}"
    try:
        gaps = schema_gaps(url)
        if gaps and create_missing_tables and all(g.endswith("is missing") for g in gaps):
            upgrade_store(url)
            gaps = schema_gaps(url)
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
        return [Finding(subject, f"cannot be reached ({reason})",
                        "check CTDATA_STATE_URL and that the database is up",
                        isinstance(exc, sa.exc.OperationalError))]  # fmt: skip
    if gaps:
        missing = [g for g in gaps if g.endswith("is missing")]
        if len(missing) == len(gaps) and len(gaps) > 3:
            gaps = [f"{len(gaps)} of its tables are missing"]
        return [Finding(subject, f"is not up to date ({'; '.join(gaps)})",
                        "run `ctdata doctor --upgrade` once, where CTDATA_STATE_URL points at it")]  # fmt: skip
    return []
