"""Write the state store's next migration from the tables the library defines (see ctdata.store).

    .venv/bin/python tools/new_migration.py "add the disclosure history tables"

A scratch SQLite store is brought to the current head, Alembic compares it with every table of
the library (`ctdata.migrations.library_metadata`) and writes what differs as the next
numbered revision in include/ctdata/migrations/versions/. Read it through before committing
it: autogenerate sees tables, columns, indexes and types, not renames or data to move. With
`--check` nothing is written, and the exit status is 1 when a revision is needed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("message", nargs="?", default="", help="what the revision does")
    parser.add_argument("--check", action="store_true", help="only say whether one is needed")
    args = parser.parse_args(argv)
    if not args.check and not args.message:
        parser.error("say what the revision does")

    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    from ctdata import store
    from ctdata.migrations import library_metadata

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'store.db'}"
        head = store.head_revision() if store._scripts().get_heads() else None
        if head:
            store.upgrade_store(url)
        with store.engine(url).connect() as connection:
            target = library_metadata()
            if args.check:
                diff = compare_metadata(MigrationContext.configure(connection), target)
                for change in diff:
                    print(change)
                store.release(url)
                return 1 if diff else 0
            config = Config()
            config.set_main_option("script_location", str(store.MIGRATIONS))
            config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
            config.attributes.update(connection=connection, target_metadata=target)
            written = command.revision(
                config, args.message, autogenerate=True, rev_id=f"{int(head or 0) + 1:04d}"
            )
        store.release(url)
    subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", written.path], check=False)  # type: ignore[union-attr]
    print(f"wrote {written.path}: read it through, then commit it")  # type: ignore[union-attr]
    return 0


if __name__ == "__main__":
    sys.exit(main())
