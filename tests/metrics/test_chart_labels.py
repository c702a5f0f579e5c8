"""The usage charts' date labels stay inside the chart: the first starts at the axis, the last
ends at it (centred on the plot's edge, half of it was clipped)."""

from __future__ import annotations

import datetime as dt

import jinja2

from ctdata.metrics.report import WIDTH, line_chart


def test_the_last_date_label_ends_at_the_axis_and_is_drawn_so() -> None:
    dates = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(30)]
    chart = line_chart("Last 30 days", dates, {"Views": list(range(30))}, set())
    anchors = [anchor for _, _, anchor in chart.x_labels]
    assert anchors == ["start", "middle", "end"]
    assert float(chart.x_labels[-1][0]) <= WIDTH
    env = jinja2.Environment(loader=jinja2.PackageLoader("ctdata.metrics", "templates"))
    svg = env.from_string("{% from '_chart.html' import line_chart %}{{ line_chart(c) }}").render(
        c=chart
    )
    assert "style='text-anchor:end'>2026-01-30</text>" in svg
