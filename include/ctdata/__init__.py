"""ctdata: publish Connecticut agencies' data to the CT Open Data Portal, safely and unattended."""

from __future__ import annotations

__version__ = "0.1.0"
