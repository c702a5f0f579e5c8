"""The state store's migration environment, run by `ctdata.store.upgrade_store` (and by
tools/new_migration.py to autogenerate a revision). It is handed an open connection; it never
opens one itself, so it runs on whatever store the caller upgrades."""

from __future__ import annotations

from typing import Any

from alembic import context

config = context.config
applied: list[str] = config.attributes.get("applied", [])


def _record(*, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
    """Keep each revision applied as `ctdata.store.upgrade_store` reports it."""
    if step.is_upgrade:
        doc = step.up_revision.doc if step.up_revision is not None else ""
        applied.append(f"{step.up_revision_id}: {(doc or '').strip()}")


context.configure(
    connection=config.attributes["connection"],
    target_metadata=config.attributes.get("target_metadata"),
    on_version_apply=_record,
    render_as_batch=True,  # SQLite alters a table by copying it: autogenerate writes it so
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
