"""The store's tables as the release before the migrations made them (git 03ce66b: every
module created its own with `create_all` on first use), frozen here so a test can build a
store exactly as that release left it. Copied from lifecycle/registry.py, publishing/ledger.py,
publishing/state.py, monitoring/ledger.py, metrics/store.py and metrics/attention.py; never edit
them to follow the code: they are what an upgrade starts from."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Each MetaData is one module's, as `create_all` ran on it: a store may hold some of them only.
registry = MetaData()
publishing = MetaData()
monitoring = MetaData()
metrics = MetaData()
attention = MetaData()
datasets = Table(
    "dataset_registry",
    registry,
    Column("agency", String(30), primary_key=True),
    Column("slug", String(40), primary_key=True),
    Column("portal_id", String(16), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=True),
    # Set while a create request's outcome is unknown (its answer was lost).
    Column("create_attempted_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("portal_id", name="uq_dataset_registry_portal_id"),
)
reviews = Table(
    "dataset_reviews",
    registry,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agency", String(30), nullable=False, index=True),
    Column("slug", String(40), nullable=False),
    Column("portal_id", String(16), nullable=True),
    Column("decision", String(16), nullable=False),
    Column("reviewer", Text, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("columns", Text, nullable=False),  # JSON {field: type} the decision was about
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("run_id", Text, nullable=True),
)
publish_runs = Table(
    "publish_runs",
    publishing,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", String(16), nullable=False, index=True),
    Column("method", String(16), nullable=False),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False),
    Column("counts", Text, nullable=True),
    Column("message", Text, nullable=True),
)
publish_segments = Table(
    "publish_segments",
    publishing,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", String(16), nullable=False, index=True),
    Column("rows", Integer, nullable=False),
    Column("key_hashes", LargeBinary, nullable=False),
    Column("row_hashes", LargeBinary, nullable=False),
    Column("copies", LargeBinary, nullable=False),
    Column("row_ids", LargeBinary, nullable=True),
)
publish_datasets = Table(
    "publish_datasets",
    publishing,
    Column("dataset_id", String(16), primary_key=True),
    Column("key_kind", Text, nullable=False),
    Column("live_rows", BigInteger, nullable=False, default=0),
    Column("last_reconciled", DateTime(timezone=True), nullable=True),
)
publish_snapshots = Table(
    "publish_snapshots",
    publishing,
    Column("dataset_id", String(16), primary_key=True),
    Column("upto_segment", Integer, nullable=False),
    Column("key_hashes", LargeBinary, nullable=False),
    Column("row_hashes", LargeBinary, nullable=False),
    Column("copies", LargeBinary, nullable=False),
)
KEY_LENGTH = 80
monitor_runs = Table(
    "monitor_runs",
    monitoring,
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
monitor_steps = Table(
    "monitor_steps",
    monitoring,
    Column("run_pk", Integer, ForeignKey("monitor_runs.id"), primary_key=True),
    Column("step", String(40), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("finished", DateTime(timezone=True), nullable=False),
    Column("summary", Text, nullable=False),
)
monitor_latest = Table(
    "monitor_latest",
    monitoring,
    Column("dataset_id", String(KEY_LENGTH), primary_key=True),
    Column("last_run", Integer, nullable=False),
    Column("last_success", Integer, nullable=True),
)
monitor_version = Table(
    "monitor_version",
    monitoring,
    Column("id", Integer, primary_key=True),
    Column("value", BigInteger, nullable=False),
)
metrics_snapshots = Table(
    "metrics_snapshots",
    metrics,
    Column("snapshot_date", Date, primary_key=True),
    Column("dataset_id", String(16), primary_key=True),
    Column("name", Text, nullable=False),
    Column("agency", Text, nullable=False),
    Column("automated", Boolean, nullable=False),
    Column("created", Date, nullable=True),
    Column("last_update", Date, nullable=True),
    Column("update_frequency", Text, nullable=True),
    Column("missing_metadata", Text, nullable=False),
    Column("freshness", String(16), nullable=False),
    Column("days_overdue", Integer, nullable=False),
    Column("views_total", BigInteger, nullable=False),
    Column("downloads_total", BigInteger, nullable=False),
    Column("api_calls_total", BigInteger, nullable=True),
    Column("collected_at", DateTime(timezone=True), nullable=False),
)
metrics_daily = Table(
    "metrics_daily",
    metrics,
    Column("date", Date, primary_key=True),
    Column("dataset_id", String(16), primary_key=True),
    Column("name", Text, nullable=False),
    Column("agency", Text, nullable=False),
    Column("views", BigInteger, nullable=True),
    Column("downloads", BigInteger, nullable=True),
    Column("api_calls", BigInteger, nullable=True),
    Column("views_total", BigInteger, nullable=False),
    Column("downloads_total", BigInteger, nullable=False),
    Column("api_calls_total", BigInteger, nullable=True),
    Column("filled", Boolean, nullable=False),
    Column("freshness", String(16), nullable=False),
    Column("days_overdue", Integer, nullable=False),
    Column("missing_metadata", Text, nullable=False),
    Column("measured_on", Date, nullable=False),
)
candidates_table = Table(
    "metrics_retirement_candidates",
    attention,
    Column("date", Date, primary_key=True),
    Column("dataset_id", String(16), primary_key=True),
    Column("name", Text, nullable=False),
    Column("agency", Text, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list
    Column("details", Text, nullable=False),
)
late_items_table = Table(
    "metrics_late_plan_items",
    attention,
    Column("date", Date, primary_key=True),
    Column("agency", Text, primary_key=True),
    Column("item", Text, primary_key=True),  # portal id, else the title in lower case
    Column("title", Text, nullable=False),
    Column("portal_id", String(16), nullable=True),
    Column("target_date", Date, nullable=False),
    Column("days_late", Integer, nullable=False),
)

MODULES = (registry, publishing, monitoring, metrics, attention)
