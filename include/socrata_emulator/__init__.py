"""A Socrata-compatible portal stand-in (SODA 2.x wire format) for demos and tests.

Real, unmodified sodapy works against it over plain HTTP on loopback. Layout (after moto):
models.py (datasets, accounts, errors) -> store.py (SQLite, one typed table per dataset) ->
rows.py / soql.py (writes, SoQL -> parameterized SQL) -> api.py (routes, auth, wire shapes) ->
server.py (HTTP/1.1, faults, latency) -> cli.py (`ctdata emulator`) and testing.py
(`run_emulator`, `sodapy_client`, `seed_data_dir`).
"""
