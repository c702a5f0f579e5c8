"""Airflow glue: the Socrata hook, the provider registration and the DAG factory.

Nothing here is imported by the pure library; only DAG files and Airflow load it.
"""
