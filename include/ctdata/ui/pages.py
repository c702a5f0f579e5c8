"""Server-rendered pages of the Open Data view (Jinja2, autoescaped), laid out to sit inside
the Airflow UI's frame; the only script passes links to Airflow and the portal to the Airflow
page (the frame is sandboxed). Charts reuse the usage report's SVG line chart."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import jinja2

from ctdata.metrics.report import COUNTERS, line_chart

STATUS_COLORS = {
    "failing": "#e53e3e",
    "overdue": "#dd6b20",
    "never run": "#718096",
    "on time": "#38a169",
    "not scheduled": "#3182ce",
    "retiring": "#805ad5",
    "retired": "#4a5568",
    "retrying": "#d69e2e",
    "public": "#2f855a",
    "private": "#4a5568",
    "review": "#805ad5",
    "late plan item": "#dd6b20",
    "retirement candidate": "#4a5568",
    "succeeded": "#38a169",
    "failed": "#e53e3e",
    "running": "#3182ce",
}


@cache
def _templates() -> jinja2.Environment:
    loader = jinja2.ChoiceLoader(
        [
            jinja2.PackageLoader("ctdata.ui", "templates"),
            jinja2.PackageLoader("ctdata.metrics", "templates"),
        ]
    )
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["count"] = lambda v: "-" if v is None else f"{v:,}"
    env.filters["pct"] = lambda v: "-" if v is None else f"{v:.0%}"
    env.globals["status_color"] = lambda s: STATUS_COLORS.get(s or "", "#718096")
    return env


def render(name: str, **context: Any) -> str:
    return _templates().get_template(name).render(**context)


def usage_charts(series: list[dict[str, Any]], today: dt.date) -> list[Any]:
    """Charts of the last 30 and 365 days (one line per counter; gaps where not measured)."""
    values = {row["date"]: row for row in series}
    charts = []
    for days in (30, 365):
        dates = [today - dt.timedelta(days=days - 1 - i) for i in range(days)]
        lines = {
            label: [values.get(d.isoformat(), {}).get(key) for d in dates]
            for key, label in COUNTERS
        }
        if not any(v is not None for vs in lines.values() for v in vs):
            lines = {}
        charts.append(line_chart(f"Last {days} days", dates, lines, set()))
    return charts
