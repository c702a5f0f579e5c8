"""Reference tables named in specs (domains, hierarchies, denominators), read as text.

Imports nothing else of `ctdata.disclosure`, so both the specs and the aggregation read
through it without importing each other; pandas loads on first read (specs are parsed when
DAG files are, which must stay cheap).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ctdata.errors import DisclosureError

if TYPE_CHECKING:
    import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def resolve_data_path(path: str) -> Path:
    """Reference files are named relative to the package data folder unless absolute."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else DATA_DIR / candidate


def read_reference(path: str) -> pd.DataFrame:
    """Every column as text, so labels like '09' survive; errors name the file."""
    import pandas as pd

    file = resolve_data_path(path)
    try:
        return pd.read_csv(file, dtype=str, keep_default_na=False)
    except OSError as exc:
        raise DisclosureError(f"reference file {file}: cannot read ({exc.strerror})") from exc


def require_columns(table: pd.DataFrame, columns: list[str], what: str) -> None:
    """Name the reference file's missing column and the ones it has."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DisclosureError(f"{what} has no column {missing[0]!r} (it has {list(table.columns)})")
