"""Seed files: datasets with fixed four-by-four ids, created or updated in a data dir.

Seeding is idempotent: an existing id gets its metadata updated and missing columns added;
rows are never dropped (optional `rows` are upserted, or appended only into an empty dataset
without a row identifier).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from socrata_emulator.models import FOUR_BY_FOUR, ApiError, EmulatorError
from socrata_emulator.store import Store


class SeedError(EmulatorError):
    """A seed file is invalid: names the file, the entry and the field."""


def load_seed(seed: dict[str, Any] | str | Path) -> tuple[dict[str, Any], str]:
    """Read a seed (dict or YAML path); returns (data, a label for messages)."""
    if isinstance(seed, dict):
        return seed, "seed"
    path = Path(seed)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SeedError(f"Cannot read seed file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SeedError(f"Seed file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SeedError(f"Seed file {path}: expected a mapping with a 'datasets' list")
    return data, str(path)


def _view_body(entry: dict[str, Any]) -> dict[str, Any]:
    body = {
        k: entry[k]
        for k in (
            "name",
            "description",
            "category",
            "tags",
            "attribution",
            "attributionLink",
            "licenseId",
            "columns",
        )
        if k in entry
    }
    metadata: dict[str, Any] = {}
    if "rowIdentifier" in entry:
        metadata["rowIdentifier"] = entry["rowIdentifier"]
    if "custom_fields" in entry:
        metadata["custom_fields"] = entry["custom_fields"]
    if metadata:
        body["metadata"] = metadata
    return body


def apply_seed(store: Store, seed: dict[str, Any] | str | Path) -> list[str]:
    """Create/update every dataset of the seed in `store`; returns their ids."""
    data, label = load_seed(seed)
    entries = data.get("datasets")
    if not isinstance(entries, list):
        raise SeedError(f"{label}: 'datasets' must be a list of dataset entries")
    ids = []
    for n, entry in enumerate(entries, start=1):
        where = f"{label}: datasets[{n}]"
        if not isinstance(entry, dict):
            raise SeedError(f"{where} must be a mapping")
        ds_id = entry.get("id")
        if not isinstance(ds_id, str) or not FOUR_BY_FOUR.match(ds_id):
            raise SeedError(f"{where}: id {ds_id!r} is not a four-by-four like 'rybz-nyjw'")
        where = f"{label}: dataset {ds_id}"
        if not entry.get("name") or not entry.get("owner"):
            raise SeedError(f"{where}: 'name' and 'owner' (an email) are required")
        try:
            _seed_one(store, ds_id, entry)
        except ApiError as exc:
            raise SeedError(f"{where}: {exc.message}") from None
        ids.append(ds_id)
    return ids


def _seed_one(store: Store, ds_id: str, entry: dict[str, Any]) -> None:
    body = _view_body(entry)
    ds = store.datasets.get(ds_id)
    if ds is None:
        ds = store.create(body, entry["owner"], ds_id)
    else:
        for spec in body.get("columns") or []:
            if isinstance(spec, dict) and not ds.column(spec.get("fieldName") or ""):
                store.add_column(ds, spec)
                ds = store.get(ds_id)
        ds = store.update(ds, body)
    ds = store.set_flags(
        ds,
        public=bool(entry.get("public", False)),
        published=bool(entry.get("published", True)),
        owner=entry["owner"],
    )
    rows = entry.get("rows")
    if rows and (ds.rowIdentifier or store.row_count(ds) == 0):
        store.write(ds, rows)


def seed_data_dir(data_dir: str | Path, seed: dict[str, Any] | str | Path) -> list[str]:
    """Seed a data dir without a running server (the server must not be running on it)."""
    store = Store(Path(data_dir))
    try:
        return apply_seed(store, seed)
    finally:
        store.close()
