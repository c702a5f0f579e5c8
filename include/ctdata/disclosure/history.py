"""Every release a population ever made public (or may have: a release is recorded before its
rows are sent), with the true values behind it, kept in the state store.

This is what protection over time rests on: each new release is protected and audited together
with all of these (joint.py, assess.py). A release is recorded under a lock on its population,
after an audit of it with everything recorded so far, so no two runs can each add a release
that is safe alone and unsafe together. A refresh that publishes exactly what the last release
showed adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from ctdata.disclosure.assess import Assessment, assess
from ctdata.disclosure.release import Release
from ctdata.errors import DisclosureError

metadata = MetaData()

releases_table = Table(
    "disclosure_releases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("population", String(120), nullable=False, index=True),
    Column("table_key", String(120), nullable=False),
    Column("snapshot", String(250), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # pending (may be public) | published
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("payload", LargeBinary, nullable=False),
)

populations_table = Table(
    "disclosure_populations",
    metadata,
    Column("population", String(120), primary_key=True),
    Column("version", Integer, nullable=False),
)


audits_table = Table(
    "disclosure_audits",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("passed", Boolean, nullable=False),
    Column("headline", Text, nullable=False),
    Column("groups", Text, nullable=False),  # the disclosed groups' names (never values)
    Column("audited_at", DateTime(timezone=True), nullable=False),
)


def digest(releases: list[Release]) -> str:
    """Identifies a set of releases (order does not matter): the audit's cache key."""
    parts = sorted(r.fingerprint() for r in releases)
    return hashlib.sha256("".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    """A joint audit's outcome, as kept: counts and the names of disclosed groups."""

    passed: bool
    headline: str
    groups: tuple[str, ...] = ()

    @classmethod
    def of(cls, assessment: Assessment) -> Verdict:
        return cls(assessment.passed, assessment.headline(),
                   tuple(d.group for d in assessment.disclosures))  # fmt: skip


class ReleaseHistory:
    """The recorded releases of every population, in one state store."""

    def __init__(self, engine: Engine) -> None:
        from ctdata.store import ensure_tables

        self.engine = engine
        ensure_tables(metadata, engine)

    def releases(self, population: str, connection: Connection | None = None) -> list[Release]:
        """Every recorded release of the population, oldest first."""
        query = (
            select(releases_table.c.payload)
            .where(releases_table.c.population == population)
            .order_by(releases_table.c.seq, releases_table.c.id)
        )
        if connection is not None:
            return [Release.from_bytes(row.payload) for row in connection.execute(query)]
        with self.engine.connect() as conn:
            return [Release.from_bytes(row.payload) for row in conn.execute(query)]

    def next_seq(self, population: str, snapshot: str) -> int:
        """The position of a snapshot in the population's timeline (a run keeps its own)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(releases_table.c.snapshot, releases_table.c.seq).where(
                    releases_table.c.population == population
                )
            ).all()
        for row in rows:
            if row.snapshot == snapshot:
                return int(row.seq)
        return max((int(r.seq) for r in rows), default=0) + 1

    def record(self, population: str, release: Release, *, audit: bool = True) -> bool:
        """Record a release (status pending: it may be public from now on) under the
        population's lock, after the attacker model found nothing in it together with every
        release recorded before (`audit`); DisclosureError, and nothing recorded, when it
        did. False when the table's last release already shows exactly this, or this run
        recorded it already."""
        with self._locked(population) as conn:
            history = self.releases(population, conn)
            mine = [r for r in history if r.table == release.table]
            if mine and mine[-1].snapshot == release.snapshot:
                if mine[-1].same_publication(release):
                    return False  # a retry of this run's publish
                raise DisclosureError(
                    f"{release.table}: this run already recorded a different release of the "
                    "table; start a new run"
                )
            if mine and mine[-1].same_publication(release):
                return False  # nothing changed since the last release
            if audit:
                verdict = self.verdict([*history, release], conn)
                if not verdict.passed:
                    names = "; ".join(verdict.groups[:5])
                    raise DisclosureError(f"{release.table}: {verdict.headline} ({names})")
            conn.execute(
                insert(releases_table).values(
                    population=population,
                    table_key=release.table,
                    snapshot=release.snapshot,
                    seq=release.seq,
                    status="pending",
                    recorded_at=datetime.now(UTC),
                    payload=release.to_bytes(),
                )
            )
            return True

    def verdict(self, releases: list[Release], connection: Connection | None = None) -> Verdict:
        """The attacker model on exactly these releases, audited once per distinct set (the
        protection step, validation and the publish gate often ask about the same set)."""
        if connection is None:
            with self.engine.begin() as conn:
                return self.verdict(releases, conn)
        key = digest(releases)
        row = connection.execute(select(audits_table).where(audits_table.c.digest == key)).first()
        if row is not None:
            groups = tuple(g for g in row.groups.split("\n") if g)
            return Verdict(bool(row.passed), row.headline, groups)
        found = Verdict.of(assess(releases))
        self.remember(releases, found, connection)
        return found

    def remember(
        self, releases: list[Release], verdict: Verdict, connection: Connection | None = None
    ) -> None:
        """Keep a verdict computed elsewhere (the engine's final audit) for this set; a kept
        verdict is never replaced."""
        if connection is None:
            with self.engine.begin() as conn:
                self.remember(releases, verdict, conn)
            return
        key = digest(releases)
        if connection.execute(
            select(audits_table.c.digest).where(audits_table.c.digest == key)
        ).first():
            return
        connection.execute(
            insert(audits_table).values(
                digest=key,
                passed=verdict.passed,
                headline=verdict.headline,
                groups="\n".join(verdict.groups),
                audited_at=datetime.now(UTC),
            )
        )

    def mark_published(self, population: str, table: str, snapshot: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(releases_table)
                .where(
                    (releases_table.c.population == population)
                    & (releases_table.c.table_key == table)
                    & (releases_table.c.snapshot == snapshot)
                )
                .values(status="published")
            )

    @contextmanager
    def _locked(self, population: str) -> Iterator[Connection]:
        """A transaction holding the population's row lock (PostgreSQL row lock; SQLite's
        writer lock), so recording is serialized per population."""
        with self.engine.begin() as conn:
            bumped = conn.execute(
                update(populations_table)
                .where(populations_table.c.population == population)
                .values(version=populations_table.c.version + 1)
            ).rowcount
            if not bumped:
                conn.execute(insert(populations_table).values(population=population, version=1))
            yield conn
