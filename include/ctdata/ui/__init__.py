"""The Open Data view: a FastAPI app (pages and JSON API) over the monitoring read models.

It knows nothing of Airflow: whoever mounts it passes the dependency that says who is asking
and which agencies they may see (ctdata.airflow.plugin passes Airflow's own auth manager).
"""
