"""A small local web API standing in for agency systems in tests: the Socrata stand-in's
sibling. It serves one record set in each paging style agencies' APIs use, and an ArcGIS
REST feature layer, with faults on demand (429 with Retry-After, 5xx, dropped connections).
It knows nothing of ctdata."""

from agency_api_emulator.server import AgencyApi, Fault, run_api

__all__ = ["AgencyApi", "Fault", "run_api"]
