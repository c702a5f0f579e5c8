"""The monitoring ledger's tables (see `ctdata.monitoring.ledger`, which reads and writes
them). A change here needs a migration: see `ctdata.store`."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()
KEY_LENGTH = 80  # a portal id, or `<agency>.<slug>` (30 + 1 + 40) before the dataset exists

runs = Table(
    "monitor_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", String(KEY_LENGTH), nullable=False),
    Column("agency", String(30), nullable=False),
    Column("slug", String(40), nullable=False),
    Column("dag_id", String(250), nullable=False),
    Column("run_id", String(250), nullable=False),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False),
    Column("failed_step", String(40), nullable=True),
    Column("error_type", String(80), nullable=True),
    Column("reason", Text, nullable=True),
    Column("created", BigInteger, nullable=True),
    Column("updated", BigInteger, nullable=True),
    Column("deleted", BigInteger, nullable=True),
    Column("bytes_sent", BigInteger, nullable=True),
    Column("cells_suppressed", Integer, nullable=True),
    Column("primary_suppressed", Integer, nullable=True),
    Column("complementary_suppressed", Integer, nullable=True),
    Column("audit_passed", Boolean, nullable=True),
    Column("validation_passed", Boolean, nullable=True),
    Column("expectations_failed", Integer, nullable=True),
    UniqueConstraint("dataset_id", "run_id", name="uq_monitor_runs_dataset_run"),
    Index("ix_monitor_runs_dataset_id", "dataset_id", "id"),
)

steps = Table(
    "monitor_steps",
    metadata,
    Column("run_pk", Integer, ForeignKey("monitor_runs.id"), primary_key=True),
    Column("step", String(40), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("finished", DateTime(timezone=True), nullable=False),
    Column("summary", Text, nullable=False),
)

latest = Table(
    "monitor_latest",
    metadata,
    Column("dataset_id", String(KEY_LENGTH), primary_key=True),
    Column("last_run", Integer, nullable=False),
    Column("last_success", Integer, nullable=True),
)

# Bumped by every write, so readers can keep what they computed until the ledger changes.
version = Table(
    "monitor_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", BigInteger, nullable=False),
)
