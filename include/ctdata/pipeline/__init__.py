"""The per-dataset steps an agency DAG runs, as plain functions (Airflow tasks only call them)."""
