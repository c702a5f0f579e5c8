"""Access to a Socrata portal (data.ct.gov or the local stand-in): connection, client, schema."""

from __future__ import annotations

from ctdata.portal.connection import PortalConnection
from ctdata.portal.schema import PortalColumn

__all__ = ["PortalColumn", "PortalConnection", "SocrataClient"]


def __getattr__(name: str) -> object:
    # The client pulls in requests/sodapy/tenacity; import it only when asked for.
    if name == "SocrataClient":
        from ctdata.portal.client import SocrataClient

        return SocrataClient
    raise AttributeError(name)
