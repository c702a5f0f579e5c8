"""Agency specs: typed models and the YAML loader."""

from __future__ import annotations

from ctdata.specs.loader import SpecSet, load_agency, load_all, resolve_path
from ctdata.specs.models import AgencySpec, Column, DatasetSpec

__all__ = [
    "AgencySpec",
    "Column",
    "DatasetSpec",
    "SpecSet",
    "load_agency",
    "load_all",
    "resolve_path",
]
