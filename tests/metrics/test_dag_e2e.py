"""End to end: `airflow dags test usage_metrics` against the stand-in, read back with sodapy."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctdata.clock import state_date
from ctdata.demo.environment import ADMIN, APP_TOKEN, PUBLISHER, LocalSetup
from ctdata.demo.runner import latest_xcoms, portal_seed, run_dag
from ctdata.demo.traffic import generate_traffic
from ctdata.metrics.config import load_metrics_config, portal_seed_entries
from ctdata.specs import load_all
from tests.metrics.support import seed_dataset

pytestmark = pytest.mark.e2e
PUBLIC = seed_dataset("tst2-pub1", "Public Test Counts", "Monthly", owner=PUBLISHER[0])


def test_usage_metrics_dag_measures_publishes_and_reports(tmp_path: Path) -> None:
    from socrata_emulator.testing import run_emulator, sodapy_client

    setup = LocalSetup(tmp_path / "var")
    setup.prepare()
    config = load_metrics_config()
    seed = portal_seed(load_all().agencies)
    seed["datasets"] += [PUBLIC, *portal_seed_entries(PUBLISHER[0], config)]
    with run_emulator(
        setup.portal_dir,
        users=[":".join(PUBLISHER)],
        admins=[":".join(ADMIN)],
        app_tokens=[APP_TOKEN],
        seed=seed,
        analytics_viewers=[PUBLISHER[0]],
    ) as emulator:
        did = generate_traffic(emulator.url, [PUBLIC["id"]], seed=3, max_requests=25)[PUBLIC["id"]]
        env = {**setup.env("127.0.0.1", emulator.port), "CTDATA_REPORTS_DIR": str(tmp_path / "r")}
        ok, log = run_dag(setup, env, "usage_metrics")
        text = Path(log).read_text()
        assert ok, text[-4000:]
        client = sodapy_client(emulator, username=ADMIN[0], password=ADMIN[1], app_token=APP_TOKEN)
        day = state_date().isoformat()
        [row] = client.get(config.usage_dataset.portal_id, where=f"row_id = '{PUBLIC['id']}|{day}'")
        assert [int(row.get(k, 0)) for k in ("views", "downloads", "api_calls")] == [
            did["views"],
            did["downloads"],
            did["api_calls"],
        ]
        view = client.get_metadata(config.usage_dataset.portal_id)
        assert view["publicationStage"] == "published"
        assert view["name"] == config.usage_dataset.metadata.title
    xcoms = latest_xcoms(setup, "usage_metrics")
    assert xcoms["collect"]["requests"] <= 4  # catalog page, analytics columns, grouped sums
    assert xcoms["collect"]["counters_from"] == "site analytics dataset site-anly"
    # the task logs tell the story in words
    assert "counters from site analytics dataset site-anly" in text
    assert "Published Open Data Portal Dataset Usage by Day (opmu-sg01)" in text
    assert "Usage report for" in text
    report = Path(xcoms["report"]["path"])
    assert report.parent == tmp_path / "r" and "Public Test Counts" in report.read_text()
