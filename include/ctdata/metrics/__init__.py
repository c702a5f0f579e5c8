"""Nightly usage metrics: catalog + counters → usage history → quality, scorecard, report and
the two published datasets. See `ctdata.metrics.job` for the steps the DAG runs."""

from __future__ import annotations

from ctdata.metrics.config import MetricsConfig, load_metrics_config, portal_seed_entries

__all__ = ["MetricsConfig", "load_metrics_config", "portal_seed_entries"]
