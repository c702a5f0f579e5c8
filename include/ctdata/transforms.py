"""Row-level transforms declared in a spec, applied right after extraction."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from pathlib import Path

import pandas as pd

from ctdata.errors import SpecError
from ctdata.specs.loader import resolve_path
from ctdata.specs.models import (
    CrosswalkTransform,
    DatasetSpec,
    DropTransform,
    PseudonymizeTransform,
    SmallGroupTransform,
)

log = logging.getLogger(__name__)


def apply_transforms(
    frame: pd.DataFrame, dataset: DatasetSpec, agencies_dir: Path | None = None
) -> pd.DataFrame:
    """The spec's row-level transforms, in order. `suppress_small_groups` only has its columns
    checked here: it is applied by the disclosure protection step (ctdata.pipeline.protection),
    which generalizes together with the dataset's linked tables and earlier releases."""
    for index, transform in enumerate(dataset.transforms):
        where = f"dataset {dataset.slug!r} transforms[{index}] ({transform.kind})"
        _require_columns(frame, _inputs(transform), where)
        if isinstance(transform, CrosswalkTransform):
            frame = crosswalk(frame, transform, agencies_dir)
        elif isinstance(transform, PseudonymizeTransform):
            frame = pseudonymize(frame, transform, where)
        elif isinstance(transform, DropTransform):
            frame = frame.drop(columns=transform.columns)
    return frame


def crosswalk(
    frame: pd.DataFrame, transform: CrosswalkTransform, agencies_dir: Path | None = None
) -> pd.DataFrame:
    """Map values to the domain: exact (case-insensitive) domain matches first, then the
    crosswalk; anything else becomes the unknown label, so it is counted, never dropped."""
    domain = pd.read_csv(resolve_path(transform.domain, agencies_dir)).iloc[:, 0].astype(str)
    table = pd.read_csv(resolve_path(transform.crosswalk, agencies_dir), dtype=str)
    lookup = {value.upper(): value for value in domain}
    lookup.update(
        {k.strip().upper(): v for k, v in zip(table["value"], table["maps_to"], strict=True)}
    )
    keys = frame[transform.column].astype("string").str.strip().str.upper()
    mapped = keys.map(lookup).fillna(transform.unknown_label)
    return frame.assign(**{transform.output: mapped.astype(str)})


def pseudonymize(frame: pd.DataFrame, transform: PseudonymizeTransform, where: str) -> pd.DataFrame:
    key = os.environ.get(transform.key_env)
    if not key:
        raise SpecError(
            f"{where}: environment variable {transform.key_env} must hold the secret key used to "
            "pseudonymize identifiers (keep it stable: changing it changes every record id)"
        )
    secret = key.encode()
    values = frame[transform.column].astype(str)
    hashed = [
        hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[: transform.length]
        for value in values
    ]
    return frame.assign(**{transform.output: hashed})


def _inputs(transform: object) -> list[str]:
    if isinstance(transform, DropTransform):
        return list(transform.columns)
    if isinstance(transform, SmallGroupTransform):
        return list(transform.quasi_identifiers)
    return [transform.column]


def _require_columns(frame: pd.DataFrame, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SpecError(
            f"{where}: column(s) {', '.join(missing)} not in the extracted data "
            f"(it has: {', '.join(map(str, frame.columns))})"
        )
