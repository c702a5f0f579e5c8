"""`ctdata publish-file`: output, exit codes, and convergence after `kill -9` mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.publishing.support import (
    PASSWORD,
    USER,
    client_for,
    create_dataset,
    make_rows,
    portal_multiset,
    source_multiset,
    write_csv,
)


def _cmd(url, ds, method, csv_path, state_url, *extra):
    return [
        sys.executable, "-m", "ctdata.cli", "publish-file", "--portal", url, "--dataset", ds,
        "--method", method, "--state-url", state_url, *extra, str(csv_path),
    ]  # fmt: skip


def _env():
    return {**os.environ, "SOCRATA_USERNAME": USER, "SOCRATA_PASSWORD": PASSWORD}


def test_publish_file_prints_counts_and_exits_zero(portal, tmp_path) -> None:
    client = client_for(portal.url)
    ds = create_dataset(client)
    rows = make_rows(700)
    csv_path = write_csv(tmp_path / "a.csv", rows)
    state_url = f"sqlite:///{tmp_path / 'state.db'}"
    cmd = _cmd(portal.url, ds, "sync", csv_path, state_url, "--chunk-rows", "300")
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "rows created 700, updated 0, deleted 0" in done.stdout and "bytes sent" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    write_csv(csv_path, rows[:600])
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "deleted 100" in done.stdout
    assert portal_multiset(client, ds) == source_multiset(rows[:600])


def test_publish_file_reads_credentials_from_an_airflow_style_connection(portal, tmp_path) -> None:
    """--conn-id takes AIRFLOW_CONN_<ID>, the form the DAGs read, without importing Airflow."""
    client = client_for(portal.url)
    ds = create_dataset(client)
    csv_path = write_csv(tmp_path / "a.csv", make_rows(3))
    host_port = portal.url.split("://", 1)[1]
    env = {k: v for k, v in _env().items() if not k.startswith("SOCRATA_")}
    env["AIRFLOW_CONN_CT_PORTAL"] = (
        f'{{"conn_type": "socrata", "host": "{host_port.split(":")[0]}", "schema": "http", '
        f'"port": {host_port.split(":")[1]}, "login": "{USER}", "password": "{PASSWORD}"}}'
    )
    cmd = _cmd(portal.url, ds, "upsert", csv_path, f"sqlite:///{tmp_path / 's.db'}",
               "--conn-id", "ct_portal")  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "rows created 3" in done.stdout and PASSWORD not in done.stdout + done.stderr
    env["AIRFLOW_CONN_CT_PORTAL"] = env["AIRFLOW_CONN_CT_PORTAL"].replace(PASSWORD, "nope")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "401" in done.stderr and "nope" not in done.stderr


def test_publish_file_reports_user_errors(portal, tmp_path) -> None:
    client = client_for(portal.url)
    ds = create_dataset(client)
    csv_path = write_csv(tmp_path / "a.csv", make_rows(5), ["record_id", "town", "bogus"])
    cmd = _cmd(portal.url, ds, "upsert", csv_path, f"sqlite:///{tmp_path / 's.db'}")
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "bogus" in done.stderr and "Traceback" not in done.stderr
    env = {**_env(), "SOCRATA_PASSWORD": "wrong-password"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "401" in done.stderr and "wrong-password" not in done.stderr


@pytest.mark.parametrize(("method", "n"), [("upsert", 200_000), ("append", 100_000)])
def test_kill_9_mid_run_then_rerun_converges(portal, tmp_path, method, n) -> None:
    client = client_for(portal.url)
    ds = create_dataset(client, row_identifier="record_id" if method == "upsert" else None)
    rows = make_rows(n)
    csv_path = write_csv(tmp_path / "big.csv", rows)
    state_url = f"sqlite:///{tmp_path / 'state.db'}"
    cmd = _cmd(portal.url, ds, method, csv_path, state_url, "--chunk-rows", "1000")
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while client.count_rows(ds) < 3000 and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the publisher finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    landed = client.count_rows(ds)
    assert 0 < landed < n
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert portal_multiset(client, ds) == source_multiset(rows)
