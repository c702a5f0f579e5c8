"""Where the nightly counters come from, through real HTTP against the stand-in: the private
"Site Analytics: Asset Access" dataset when the account can read it; a clear configuration
error when its columns are not the configured ones; the catalog's counts, with exactly one
warning, when it is absent (404) or not readable (401, 403, not visible by name)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ctdata.clock import state_date
from ctdata.demo.traffic import generate_traffic
from ctdata.errors import ConfigurationError
from ctdata.metrics import job
from ctdata.metrics.collect import Collection, collect
from ctdata.metrics.config import AnalyticsFields, MetricsConfig, SiteAnalyticsConfig
from ctdata.metrics.history import UsageHistory
from tests.metrics.support import DATASETS, STRANGER, Portal

IDS = [d["id"] for d in DATASETS]
TODAY = state_date()


def _with(portal: Portal, site: SiteAnalyticsConfig | None) -> MetricsConfig:
    return portal.config.model_copy(update={"site_analytics": site})


def _collect(portal: Portal, config: MetricsConfig, account=...) -> Collection:
    client = portal.client() if account is ... else portal.client(account)
    with client:
        return collect(client, config, [], TODAY)


def _counters(collection: Collection) -> dict[str, tuple[int, int, int | None]]:
    return {
        o.dataset_id: (o.counters.views, o.counters.downloads, o.counters.api_calls)
        for o in collection.observations
        if o.dataset_id in IDS
    }


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_counters_come_from_site_analytics_and_match_the_traffic(portal, caplog):
    caplog.set_level(logging.INFO)
    before = _counters(_collect(portal, portal.config))
    did = generate_traffic(portal.url, IDS, seed=3, max_requests=60)
    after = _collect(portal, portal.config)
    assert after.source.analytics_id == "site-anly" and after.source.fallback is None
    assert "site-anly" not in {o.dataset_id for o in after.observations}  # not a dataset to measure
    for ds_id, (views, downloads, api_calls) in _counters(after).items():
        assert views - before[ds_id][0] == did[ds_id]["views"]
        assert downloads - before[ds_id][1] == did[ds_id]["downloads"]
        assert api_calls - before[ds_id][2] == did[ds_id]["api_calls"]
    assert after.requests == 3  # a catalog page, the analytics columns, the grouped sums
    assert _warnings(caplog) == []


def test_explicit_dataset_id_is_used_without_the_catalog_lookup(portal):
    explicit = _collect(portal, _with(portal, SiteAnalyticsConfig(dataset_id="site-anly")))
    by_name = _collect(portal, portal.config)
    assert explicit.source.analytics_id == "site-anly"
    assert _counters(explicit) == _counters(by_name)


@pytest.mark.parametrize(
    ("site", "missing"),
    [
        (
            SiteAnalyticsConfig(dataset_id="tst1-dly1"),
            "asset_uid (site_analytics.fields.asset_id), asset_type (site_analytics.fields.asset_type)",
        ),
        (
            SiteAnalyticsConfig(fields=AnalyticsFields(count="views", access_type="access")),
            "access (site_analytics.fields.access_type), views (site_analytics.fields.count)",
        ),
    ],
)
def test_missing_columns_are_named_before_any_query(portal, site, missing):
    with pytest.raises(ConfigurationError) as error:
        _collect(portal, _with(portal, site))
    message = str(error.value)
    assert "lacks the column(s)" in message and missing in message
    assert "its columns are" in message and "include/usage_metrics.yaml" in message
    assert not error.value.retryable


@pytest.mark.parametrize(
    ("site", "account", "reason"),
    [
        (SiteAnalyticsConfig(dataset_id="zzzz-9999"), ..., "zzzz-9999 does not exist"),
        (SiteAnalyticsConfig(dataset_id="site-anly"), STRANGER, "site-anly is not shared"),
        (SiteAnalyticsConfig(dataset_id="site-anly"), None, "site-anly needs a signed-in"),
        (SiteAnalyticsConfig(), STRANGER, "no dataset named 'Site Analytics: Asset Access'"),
    ],
    ids=["absent", "forbidden", "anonymous", "not-visible-by-name"],
)
def test_unreadable_analytics_fall_back_to_catalog_counts_with_one_warning(
    portal, caplog, site, account, reason
):
    caplog.set_level(logging.INFO)
    measured = _counters(_collect(portal, portal.config))
    caplog.clear()
    fallen = _collect(portal, _with(portal, site), account)
    [warning] = _warnings(caplog)
    assert reason in warning and "API calls are not measured" in warning
    assert reason in fallen.source.fallback
    assert fallen.source.description.startswith("catalog counts")
    catalog = _counters(fallen)
    assert catalog.keys() == measured.keys()
    for ds_id, (views, downloads, api_calls) in catalog.items():
        assert (views, downloads, api_calls) == (*measured[ds_id][:2], None)


def test_disabled_site_analytics_counts_from_the_catalog_without_warning(portal, caplog):
    caplog.set_level(logging.INFO)
    collection = _collect(portal, _with(portal, None))
    assert collection.source.fallback == "site analytics disabled"
    assert {c[2] for c in _counters(collection).values()} == {None}
    assert _warnings(caplog) == []


def test_a_nightly_run_without_readable_analytics_still_succeeds(portal, caplog, tmp_path: Path):
    caplog.set_level(logging.INFO)
    store = UsageHistory(f"sqlite:///{tmp_path / 'metrics.db'}")
    with portal.client(STRANGER) as client:
        summary = job.collect_snapshot(
            TODAY, client, config=portal.config, agencies=[], store=store
        )
    assert summary["datasets"] >= len(IDS)
    assert summary["counters_from"].startswith("catalog counts")
    assert "no dataset named" in summary["fallback"]
    assert len(_warnings(caplog)) == 1
    assert {r["api_calls_total"] for r in store.snapshot(TODAY) if r["dataset_id"] in IDS} == {None}
    store.dispose()


def test_only_the_publics_use_counts_not_the_publishing_accounts_reads(portal):
    """Every publish reads its dataset back signed in as the publishing account: those reads
    are not use (they would keep a dataset off the 'no use in a year' list forever)."""
    before = _counters(_collect(portal, portal.config))
    with portal.client() as publisher:  # signed in, as the pipeline's read-backs are
        for _ in range(3):
            list(publisher.read_rows("tst1-dly1", select="town, n"))
    assert _counters(_collect(portal, portal.config)) == before
    did = generate_traffic(portal.url, ["tst1-dly1"], seed=5, max_requests=12)  # anonymous
    after = _counters(_collect(portal, portal.config))["tst1-dly1"]
    assert after[2] - before["tst1-dly1"][2] == did["tst1-dly1"]["api_calls"]
    assert after[0] - before["tst1-dly1"][0] == did["tst1-dly1"]["views"]
    everyone = _with(portal, SiteAnalyticsConfig(public_user_segments=("anonymous", "site_member")))
    counted = _counters(_collect(portal, everyone))["tst1-dly1"][2]
    assert counted == after[2] + 3  # the segments are what decide
