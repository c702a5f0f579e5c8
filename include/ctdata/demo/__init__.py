"""The embedded default: the agencies' DAGs run against local stand-ins of every outside system
(an SQLite source database, the Socrata stand-in), for the demo and the end-to-end tests."""
