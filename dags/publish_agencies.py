"""One `publish_<agency>` DAG per spec in include/agencies/ (see ctdata.airflow.dag_factory)."""

from __future__ import annotations

from ctdata.airflow.dag_factory import register_agency_dags

register_agency_dags(globals())
