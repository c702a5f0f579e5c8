"""A Socrata-compatible portal stand-in (SODA 2.x wire format) for demos and tests.

Real, unmodified sodapy works against it over plain HTTP on loopback. It imports nothing of the
pipeline it stands in for (as moto's backends know nothing of their clients). Layout:
models.py (datasets, accounts, errors) -> store.py (SQLite, one typed table per dataset) ->
rows.py / soql.py + soql_expr.py (writes, SoQL -> parameterized SQL) -> analytics.py (the private
"Site Analytics: Asset Access" dataset) and files.py (attachment uploads) -> api.py (routes, auth,
views, rows) with catalog.py (Discovery API) and wire.py (wire shapes) -> server.py (HTTP/1.1,
faults, latency) -> cli.py (`ctdata emulator`, `python -m socrata_emulator`) and testing.py
(`run_emulator`, `sodapy_client`, `seed_data_dir`).
"""
