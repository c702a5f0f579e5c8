"""`inventories`: the yearly High Value Data Inventory, Open Data Access Plans and list of Agency
Data Officers (see ctdata.inventory), as spreadsheets and as portal datasets.

Parse-time work is building two tasks; the portal client, pandas and openpyxl load only when a
task runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, get_current_context, task

from ctdata import settings
from ctdata.airflow.policies import START_DATE, default_args

DOC = """
# Yearly inventories and access plans

Every year on 15 January at 07:00 Eastern, from the agency specs, the portal catalog (one view
per agency dataset, for its visibility) and the usage history:

1. **spreadsheets**: writes `high-value-data-inventory-<year>.xlsx` and
   `open-data-access-plan-<year>.xlsx` (a Summary sheet and one sheet per agency; late plan
   items highlighted) to the inventory folder (`inventory_dir` in `include/opm_registers.yaml`).
2. **publish**: publishes the *State Agency High Value Data Inventory* (one row per dataset and
   year), the *State Agency Open Data Access Plans* and the *Agency Data Officers* through the
   ordinary publishing path (portal ids in `include/opm_registers.yaml`).

Trigger it by hand whenever a data officer needs the current figures.
"""

# The retry policy of every ctdata DAG: a portal refusal (4xx) fails at once, outages retry.
DEFAULT_ARGS = default_args("opm-data-team", timeout=dt.timedelta(hours=2))


def _build() -> Any:
    from ctdata.airflow.hooks import SocrataHook
    from ctdata.airflow.runtime import run_date
    from ctdata.inventory import job
    from ctdata.metrics.history import UsageHistory
    from ctdata.specs.registers import load_registers_config

    registers = load_registers_config()
    client = SocrataHook(registers.socrata_conn_id).get_client()
    return (
        registers,
        client,
        job.build(client, run_date(get_current_context()), store=UsageHistory()),
    )


@task
def spreadsheets() -> dict[str, Any]:
    """The two workbooks, for the data officers and OPM."""
    from ctdata.inventory import job

    registers, client, inventory = _build()
    with client:
        paths = job.write(inventory, registers.inventory_path, registers)
    return {"paths": [str(p) for p in paths], "datasets": len(inventory.high_value)}


@task(pool=settings.current().socrata_pool)
def publish() -> dict[str, Any]:
    """The inventory, the plans and the data officers as portal datasets."""
    from ctdata.airflow.runtime import airflow_staging
    from ctdata.inventory import job

    registers, client, inventory = _build()
    run_id = str(get_current_context()["run_id"])
    with client:
        return job.publish(inventory, client, registers, run_id, staging=airflow_staging())


with DAG(
    dag_id="inventories",
    description="Yearly high value data inventory, open data access plans and data officers",
    schedule="0 7 15 1 *",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["ctdata", "inventory"],
    default_args=DEFAULT_ARGS,
    doc_md=DOC,
) as dag:
    spreadsheets()
    publish()
