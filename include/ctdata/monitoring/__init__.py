"""Monitoring: the per-dataset-per-run ledger tasks write, and the read models the Open Data
view, the alerts and the run-log dataset share (no Airflow import here; the front door is
ctdata.airflow.monitor and ctdata.airflow.plugin)."""
