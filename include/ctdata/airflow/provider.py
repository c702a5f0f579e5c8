"""Registers ctdata as an Airflow provider so the `socrata` connection type appears in the UI."""

from __future__ import annotations

from typing import Any

from ctdata import __version__


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "ctdata",
        "name": "CT Open Data publication pipeline",
        "description": "Publishes Connecticut agencies' data to the CT Open Data Portal (Socrata).",
        "versions": [__version__],
        "connection-types": [
            {"connection-type": "socrata", "hook-class-name": "ctdata.airflow.hooks.SocrataHook"}
        ],
    }
