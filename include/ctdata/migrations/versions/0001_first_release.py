"""The tables of the first release, which made them with `create_all`

Revision 0001, the first. On a store made before the migrations existed it creates only the
tables missing (each module made its own tables on first use, so a store may hold some), and
the store is then at 0001 with its rows untouched. Self-contained: it must not import the
modules whose tables it mirrors (see ctdata.store).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

DATASET = sa.String(length=16)  # a portal four-by-four
KEY = sa.String(length=80)  # a portal id, or `<agency>.<slug>` before the dataset exists
WHEN = sa.DateTime(timezone=True)


def _table(
    name: str, *items: sa.SchemaItem, indexes: tuple[tuple[str, list[str]], ...] = ()
) -> None:
    """Create the table and its indexes unless the store already holds it."""
    if sa.inspect(op.get_bind()).has_table(name):
        return
    op.create_table(name, *items)
    for index, columns in indexes:
        op.create_index(index, name, columns)


def upgrade() -> None:
    _publishing()
    _registry()
    _monitoring()
    _metrics()


def _publishing() -> None:
    _table(
        "publish_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        sa.Column("dataset_id", DATASET, nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("started", WHEN, nullable=False),
        sa.Column("finished", WHEN, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        indexes=(("ix_publish_runs_dataset_id", ["dataset_id"]),),
    )
    _table(
        "publish_segments",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        sa.Column("dataset_id", DATASET, nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("key_hashes", sa.LargeBinary(), nullable=False),
        sa.Column("row_hashes", sa.LargeBinary(), nullable=False),
        sa.Column("copies", sa.LargeBinary(), nullable=False),
        sa.Column("row_ids", sa.LargeBinary(), nullable=True),
        indexes=(("ix_publish_segments_dataset_id", ["dataset_id"]),),
    )
    _table(
        "publish_datasets",
        sa.Column("dataset_id", DATASET, primary_key=True),
        sa.Column("key_kind", sa.Text(), nullable=False),
        sa.Column("live_rows", sa.BigInteger(), nullable=False),
        sa.Column("last_reconciled", WHEN, nullable=True),
    )
    _table(
        "publish_snapshots",
        sa.Column("dataset_id", DATASET, primary_key=True),
        sa.Column("upto_segment", sa.Integer(), nullable=False),
        sa.Column("key_hashes", sa.LargeBinary(), nullable=False),
        sa.Column("row_hashes", sa.LargeBinary(), nullable=False),
        sa.Column("copies", sa.LargeBinary(), nullable=False),
    )


def _registry() -> None:
    _table(
        "dataset_registry",
        sa.Column("agency", sa.String(length=30), primary_key=True),
        sa.Column("slug", sa.String(length=40), primary_key=True),
        sa.Column("portal_id", DATASET, nullable=True),
        sa.Column("created_at", WHEN, nullable=True),
        sa.Column("create_attempted_at", WHEN, nullable=True),
        sa.UniqueConstraint("portal_id", name="uq_dataset_registry_portal_id"),
    )
    _table(
        "dataset_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        sa.Column("agency", sa.String(length=30), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("portal_id", DATASET, nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("columns", sa.Text(), nullable=False),
        sa.Column("decided_at", WHEN, nullable=False),
        sa.Column("run_id", sa.Text(), nullable=True),
        indexes=(("ix_dataset_reviews_agency", ["agency"]),),
    )


def _monitoring() -> None:
    _table(
        "monitor_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, primary_key=True),
        sa.Column("dataset_id", KEY, nullable=False),
        sa.Column("agency", sa.String(length=30), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=False),
        sa.Column("started", WHEN, nullable=False),
        sa.Column("finished", WHEN, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failed_step", sa.String(length=40), nullable=True),
        sa.Column("error_type", sa.String(length=80), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        *(sa.Column(name, sa.BigInteger(), nullable=True)
          for name in ("created", "updated", "deleted", "bytes_sent")),
        *(sa.Column(name, sa.Integer(), nullable=True)
          for name in ("cells_suppressed", "primary_suppressed", "complementary_suppressed")),
        sa.Column("audit_passed", sa.Boolean(), nullable=True),
        sa.Column("validation_passed", sa.Boolean(), nullable=True),
        sa.Column("expectations_failed", sa.Integer(), nullable=True),
        sa.UniqueConstraint("dataset_id", "run_id", name="uq_monitor_runs_dataset_run"),
        indexes=(("ix_monitor_runs_dataset_id", ["dataset_id", "id"]),),
    )  # fmt: skip
    _table(
        "monitor_steps",
        sa.Column("run_pk", sa.Integer(), sa.ForeignKey("monitor_runs.id"), primary_key=True),
        sa.Column("step", sa.String(length=40), primary_key=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("finished", WHEN, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
    )
    _table(
        "monitor_latest",
        sa.Column("dataset_id", KEY, primary_key=True),
        sa.Column("last_run", sa.Integer(), nullable=False),
        sa.Column("last_success", sa.Integer(), nullable=True),
    )
    _table(
        "monitor_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )


def _metrics() -> None:
    _table(
        "metrics_snapshots",
        sa.Column("snapshot_date", sa.Date(), primary_key=True),
        sa.Column("dataset_id", DATASET, primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("agency", sa.Text(), nullable=False),
        sa.Column("automated", sa.Boolean(), nullable=False),
        sa.Column("created", sa.Date(), nullable=True),
        sa.Column("last_update", sa.Date(), nullable=True),
        sa.Column("update_frequency", sa.Text(), nullable=True),
        sa.Column("missing_metadata", sa.Text(), nullable=False),
        sa.Column("freshness", sa.String(length=16), nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("views_total", sa.BigInteger(), nullable=False),
        sa.Column("downloads_total", sa.BigInteger(), nullable=False),
        sa.Column("api_calls_total", sa.BigInteger(), nullable=True),
        sa.Column("collected_at", WHEN, nullable=False),
    )
    _table(
        "metrics_daily",
        sa.Column("date", sa.Date(), primary_key=True),
        sa.Column("dataset_id", DATASET, primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("agency", sa.Text(), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=True),
        sa.Column("downloads", sa.BigInteger(), nullable=True),
        sa.Column("api_calls", sa.BigInteger(), nullable=True),
        sa.Column("views_total", sa.BigInteger(), nullable=False),
        sa.Column("downloads_total", sa.BigInteger(), nullable=False),
        sa.Column("api_calls_total", sa.BigInteger(), nullable=True),
        sa.Column("filled", sa.Boolean(), nullable=False),
        sa.Column("freshness", sa.String(length=16), nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("missing_metadata", sa.Text(), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
    )
    _table(
        "metrics_retirement_candidates",
        sa.Column("date", sa.Date(), primary_key=True),
        sa.Column("dataset_id", DATASET, primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("agency", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
    )
    _table(
        "metrics_late_plan_items",
        sa.Column("date", sa.Date(), primary_key=True),
        sa.Column("agency", sa.Text(), primary_key=True),
        sa.Column("item", sa.Text(), primary_key=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("portal_id", DATASET, nullable=True),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("days_late", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    """Before the first release there was no store: nothing to go back to."""
    raise NotImplementedError("0001 is the first revision; restore a backup instead")
