"""The disclosure history: each population's releases, its lock version, the audits' verdicts

For `ctdata.disclosure.history`: every release of each population (`disclosure_releases`),
the population's version its lock reads (`disclosure_populations`), the joint audits' verdicts
(`disclosure_audits`, counts and group names only).

Revision 0002, following 0001. Self-contained: it must not import the module whose tables it
mirrors (see ctdata.store).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosure_audits",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("groups", sa.Text(), nullable=False),
        sa.Column("audited_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_table(
        "disclosure_populations",
        sa.Column("population", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("population"),
    )
    op.create_table(
        "disclosure_releases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("population", sa.String(length=120), nullable=False),
        sa.Column("table_key", sa.String(length=120), nullable=False),
        sa.Column("snapshot", sa.String(length=250), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("disclosure_releases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_releases_population"), ["population"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("disclosure_releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_releases_population"))

    op.drop_table("disclosure_releases")
    op.drop_table("disclosure_populations")
    op.drop_table("disclosure_audits")
