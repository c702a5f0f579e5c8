"""Monitoring: the per-dataset-per-run ledger tasks write, and the read models the Open Data
view, the alerts and the run-log dataset share (no Airflow import here; steps are recorded by
DatasetRun.record in ctdata.pipeline.run, and ctdata.airflow.plugin)."""
