"""The state store's migrations (Alembic): `env.py`, and one revision per schema change in
`versions/`, applied by `ctdata.store.upgrade_store`. How to add a table: see `ctdata.store`."""

from __future__ import annotations

import importlib
from pathlib import Path

from sqlalchemy import MetaData

LIBRARY = Path(__file__).resolve().parents[1]
FRONT_DOORS = ("airflow", "cli", "demo", "migrations")  # no table of the store lives there


def library_metadata() -> list[MetaData]:
    """The `MetaData` of every library module that defines store tables: what the migrations
    must make (autogenerate compares against it; so does the test). Found by their source
    text, so a new module with tables needs no list updated."""
    found: list[MetaData] = []
    for path in sorted(LIBRARY.rglob("*.py")):
        relative = path.relative_to(LIBRARY)
        if relative.parts[0] in FRONT_DOORS or "Table(" not in path.read_text():
            continue
        name = ".".join(("ctdata", *relative.with_suffix("").parts)).removesuffix(".__init__")
        module = importlib.import_module(name)
        found += [v for v in vars(module).values() if isinstance(v, MetaData) and v.tables]
    return list({id(m): m for m in found}.values())
