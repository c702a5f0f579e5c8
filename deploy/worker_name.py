"""Names a Celery worker's tasks by CTDATA_WORKER_NAME, for workers that share one host's
network and so its host name (the host-network override, local processes). Airflow records the
name as each task instance's hostname: `AIRFLOW__CORE__HOSTNAME_CALLABLE=worker_name.hostname`
with this folder on PYTHONPATH."""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("CTDATA_WORKER_NAME") or socket.getfqdn()
