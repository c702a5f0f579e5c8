"""A validation failure in a real `airflow dags test` run: one e-mail through Airflow's SMTP
provider to a real SMTP server, to the data officer, the agency's extra address and its OPM
address, naming the step and the failing expectation with counts, with links, and without the
offending value or any secret (in the task log neither). The run-log dataset on the portal
records the failed run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from ctdata import settings
from ctdata.demo.environment import ADMIN, APP_TOKEN, DEMO_PSEUDONYM_KEY, PUBLISHER, LocalSetup
from ctdata.demo.runner import local_portal, run_dag
from ctdata.specs import load_all

pytestmark = pytest.mark.e2e

SECRET_VALUE = "ZZSECRETCOUNTY"
OFFICER, TEAM, OPM = "alrt.officer@ct.gov", "alrt.team@ct.gov", "opm.alerts@ct.gov"


def write_agency(folder: Path) -> None:
    """OPM's towns list from a file where one town's county is not a Connecticut county."""
    source = folder / "towns.csv"
    with (settings.PROJECT_ROOT / "include/ctdata/data/ct_town_county.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    rows[3]["county"] = SECRET_VALUE
    with source.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    raw = yaml.safe_load((settings.current().agencies_dir / "opm.yaml").read_text())
    dataset = raw["datasets"][0]
    dataset.update(portal_id="alrt-twn1", source={"kind": "csv", "path": str(source)})
    raw.update(
        code="alrt",
        name="Alerting Test Agency",
        data_officer={"name": "Alerting Officer", "email": OFFICER},
        alerts={"to": [TEAM], "opm": OPM},
        access_plan=[],
        datasets=[dataset],
    )
    (folder / "alrt.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def test_a_failed_validation_sends_one_safe_message(smtp, tmp_path) -> None:
    from socrata_emulator.testing import sodapy_client

    sink, connection = smtp
    agencies_dir, dags_dir = tmp_path / "agencies", tmp_path / "dags"
    agencies_dir.mkdir()
    dags_dir.mkdir()
    write_agency(agencies_dir)
    (dags_dir / "publish_agencies.py").write_text(
        (settings.PROJECT_ROOT / "dags" / "publish_agencies.py").read_text()
    )
    setup = LocalSetup(tmp_path / "var")
    setup.prepare()
    with local_portal(setup, load_all(agencies_dir).agencies) as portal:
        env = {
            **setup.env("127.0.0.1", portal.port),
            "CTDATA_AGENCIES_DIR": str(agencies_dir),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_dir),
            "AIRFLOW_CONN_SMTP_DEFAULT": connection,
            "AIRFLOW__API__BASE_URL": "http://airflow.example.ct.gov",
        }
        ok, log = run_dag(setup, env, "publish_alrt")
        assert not ok, "the run should fail on its validation"
        admin = sodapy_client(portal, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)
        run_log = admin.get(settings.current().run_log_dataset_id)

    assert len(sink.messages) == 1, [m.subject for m in sink.messages]
    message = sink.messages[0]
    assert message.to == sorted([OFFICER, TEAM, OPM])
    assert message.subject == (
        "[CT Open Data] FAILED: Connecticut Towns and Counties (alrt) at validate_source"
    )
    body = message.html
    assert "Alerting Test Agency" in body and "validate_source" in body
    assert "expect_column_values_to_be_in_set on column &#39;county&#39;" in body
    assert "1 unexpected value(s)" in body
    assert "http://airflow.example.ct.gov/dags/publish_alrt/runs/" in body
    assert "/tasks/towns.validate_source" in body
    assert "http://airflow.example.ct.gov/ctdata/datasets/alrt-twn1" in body
    assert "never been published" in body
    for secret in (SECRET_VALUE, PUBLISHER[1], ADMIN[1], APP_TOKEN, DEMO_PSEUDONYM_KEY):
        assert secret not in body and secret not in message.subject
    # the task log names the failing expectation with its counts, and no value either (the
    # validation package keeps results redacted to counts: ctdata.validation.redaction)
    task_log = log.read_text()
    assert "FAILED expect_column_values_to_be_in_set on column 'county'" in task_log
    assert "1 unexpected value(s)" in task_log and SECRET_VALUE not in task_log

    assert len(run_log) == 1
    row = run_log[0]
    assert (row["dataset_id"], row["status"], row["failed_step"]) == (
        "alrt-twn1",
        "failed",
        "validate_source",
    )
    assert "expect_column_values_to_be_in_set" in row["message"]
    assert SECRET_VALUE not in str(row)
