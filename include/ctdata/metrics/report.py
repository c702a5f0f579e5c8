"""The nightly usage report: one self-contained HTML page with inline SVG charts.

No JavaScript and nothing loaded from elsewhere, so it opens the same on an intranet, from a
file share or as an e-mail attachment.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence
from typing import Any

from ctdata.metrics.quality import FRESHNESS_ORDER
from ctdata.metrics.scorecard import AgencyScore

COUNTERS = (("views", "Page views"), ("downloads", "Downloads"), ("api_calls", "API calls"))
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
WIDTH, HEIGHT = 680, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 36

Series = dict[str, list[int | None]]


def render_report(
    day: dt.date,
    rows: Sequence[dict[str, Any]],
    snapshot: Sequence[dict[str, Any]],
    scores: Sequence[AgencyScore],
    *,
    top: int = 10,
) -> str:
    """The whole page: headline figures, charts per agency and top datasets, the scorecard
    and the freshness table (overdue first)."""
    dates = sorted({r["date"] for r in rows}) or [day]
    filled = {r["date"] for r in rows if r["filled"]}
    by_agency = _series(rows, dates, "agency")
    top_ids = _top_datasets(rows, top)
    names = {r["dataset_id"]: r["name"] for r in rows}
    by_dataset = _series([r for r in rows if r["dataset_id"] in top_ids], dates, "dataset_id")
    parts = [_head(day), _headline(day, rows, snapshot)]
    parts.append("<h2>Use by agency</h2><div class='charts'>")
    for key, label in COUNTERS:
        parts.append(line_chart(f"{label} per day", dates, by_agency[key], filled))
    parts.append("</div>")
    parts.append(f"<h2>Top {len(top_ids)} datasets</h2><div class='charts'>")
    for key, label in COUNTERS:
        series = {names[i]: by_dataset[key][i] for i in top_ids if i in by_dataset[key]}
        parts.append(line_chart(f"{label} per day", dates, series, filled))
    parts.append("</div>")
    parts.append(_scorecard_table(scores))
    parts.append(_freshness_table(snapshot))
    parts.append(
        "<p class='note'>Each day counts the 24 hours before that night's measurement "
        "(02:00 Eastern). Hollow points are nights the measurement did not run: the next "
        "measurement's increase is split evenly over the nights it covers.</p></body></html>"
    )
    return "\n".join(parts)


def _series(rows: Sequence[dict[str, Any]], dates: list[dt.date], key: str) -> dict[str, Series]:
    """Per counter, per `key` value, one value per date (None where unknown)."""
    position = {d: i for i, d in enumerate(dates)}
    out: dict[str, Series] = {c: {} for c, _ in COUNTERS}
    for row in rows:
        for counter, _ in COUNTERS:
            values = out[counter].setdefault(row[key], [None] * len(dates))
            value = row.get(counter)
            if value is None:
                continue
            i = position[row["date"]]
            values[i] = (values[i] or 0) + int(value)
    return out


def _top_datasets(rows: Sequence[dict[str, Any]], top: int) -> list[str]:
    use: dict[str, int] = {}
    for row in rows:
        total = sum(row.get(c) or 0 for c, _ in COUNTERS)
        use[row["dataset_id"]] = use.get(row["dataset_id"], 0) + total
    ranked = sorted(use.items(), key=lambda kv: (-kv[1], kv[0]))
    return [ds for ds, total in ranked[:top] if total > 0]


def line_chart(title: str, dates: list[dt.date], series: Series, filled: set[dt.date]) -> str:
    """An SVG line chart, one line per series, with y gridlines, date labels and a legend."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = max((v for vs in series.values() for v in vs if v is not None), default=0)
    ymax, step = nice_scale(peak)
    n = len(dates)

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h - plot_h * v / ymax

    out = [
        f"<figure><svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' "
        f"viewBox='0 0 {WIDTH} {HEIGHT}' role='img' aria-label='{_e(title)}'>",
        f"<text x='{LEFT}' y='16' class='t'>{_e(title)}</text>",
    ]
    tick = 0.0
    while tick <= ymax + 1e-9:
        out.append(
            f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{y(tick):.1f}' y2='{y(tick):.1f}' "
            "class='g'/>"
            f"<text x='{LEFT - 6}' y='{y(tick) + 4:.1f}' class='yl'>{_fmt(tick)}</text>"
        )
        tick += step
    for i in sorted({0, n // 2, n - 1}):
        out.append(
            f"<text x='{x(i):.1f}' y='{HEIGHT - BOTTOM + 16}' class='xl'>"
            f"{dates[i].isoformat()}</text>"
        )
    if not series:
        out.append(f"<text x='{WIDTH / 2}' y='{HEIGHT / 2}' class='xl'>no use measured yet</text>")
    for index, (name, values) in enumerate(series.items()):
        color = PALETTE[index % len(PALETTE)]
        out.append(_polyline(values, x, y, color))
        for i, v in enumerate(values):
            if v is None:
                continue
            fill = "#fff" if dates[i] in filled else color
            out.append(
                f"<circle cx='{x(i):.1f}' cy='{y(v):.1f}' r='3' fill='{fill}' stroke='{color}'>"
                f"<title>{_e(name)} {dates[i].isoformat()}: {v}</title></circle>"
            )
    out.append("</svg><figcaption>")
    for index, name in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        out.append(f"<span class='k'><i style='background:{color}'></i>{_e(name)}</span>")
    out.append("</figcaption></figure>")
    return "".join(out)


def _polyline(values: list[int | None], x: Any, y: Any, color: str) -> str:
    """Lines between consecutive known values (gaps where unknown)."""
    runs: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(f"{x(i):.1f},{y(v):.1f}")
    return "".join(
        f"<polyline points='{' '.join(r)}' fill='none' stroke='{color}' stroke-width='2'/>"
        for r in runs
        if len(r) > 1
    )


def nice_scale(peak: float) -> tuple[float, float]:
    """An axis maximum >= peak and a round tick step (1, 2 or 5 times a power of ten)."""
    if peak <= 0:
        return 1.0, 1.0
    raw = peak / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1.0)
    return step * math.ceil(peak / step), step


def _headline(day: dt.date, rows: Sequence[dict[str, Any]], snapshot: Sequence[Any]) -> str:
    today = [r for r in rows if r["date"] == day]
    overdue = sum(1 for r in snapshot if r["freshness"] == "overdue")
    incomplete = sum(1 for r in snapshot if r["missing_metadata"])
    cells = [
        ("Datasets measured", len(snapshot)),
        *((label, sum(r.get(key) or 0 for r in today)) for key, label in COUNTERS),
        ("Overdue", overdue),
        ("Missing metadata", incomplete),
    ]
    items = "".join(f"<div><b>{v:,}</b><span>{_e(k)}</span></div>" for k, v in cells)
    return f"<h1>Open data use, {day.isoformat()}</h1><div class='kpi'>{items}</div>"


def _scorecard_table(scores: Sequence[AgencyScore]) -> str:
    head = (
        "<h2>Agency scorecard</h2><table><tr><th>Agency</th><th>Datasets</th>"
        "<th>Automated</th><th>Access plan published</th><th>Updated on time</th>"
        "<th>Complete metadata</th><th>Views</th><th>Downloads</th><th>API calls</th></tr>"
    )
    body = "".join(
        f"<tr><td>{_e(s.agency)}</td><td>{s.datasets_published}</td>"
        f"<td>{_pct(s.share_automated)}</td><td>{_pct(s.share_access_plan_published)}</td>"
        f"<td>{_pct(s.share_updated_on_time)}</td><td>{_pct(s.share_complete_metadata)}</td>"
        f"<td>{s.views:,}</td><td>{s.downloads:,}</td><td>{s.api_calls:,}</td></tr>"
        for s in scores
    )
    return head + body + "</table>"


def freshness_rows(snapshot: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overdue first (most overdue on top), then unknown, on time, no schedule, historical."""
    rank = {status: i for i, status in enumerate(FRESHNESS_ORDER)}
    return sorted(
        snapshot,
        key=lambda r: (rank.get(r["freshness"], 99), -r["days_overdue"], r["agency"], r["name"]),
    )


def _freshness_table(snapshot: Sequence[dict[str, Any]]) -> str:
    rows = []
    for r in freshness_rows(snapshot):
        status = r["freshness"]
        if status == "overdue":
            status = f"overdue by {r['days_overdue']} day{'s' if r['days_overdue'] != 1 else ''}"
        last = r["last_update"].isoformat() if r["last_update"] else "never"
        missing = ", ".join(r["missing_metadata"]) or "complete"
        css = " class='late'" if r["freshness"] == "overdue" else ""
        rows.append(
            f"<tr{css}><td>{_e(r['name'])}<br><small>{_e(r['dataset_id'])}</small></td>"
            f"<td>{_e(r['agency'])}</td><td>{_e(r['update_frequency'] or 'not set')}</td>"
            f"<td>{last}</td><td>{_e(status)}</td><td>{_e(missing)}</td></tr>"
        )
    return (
        "<h2>Freshness and metadata</h2><table><tr><th>Dataset</th><th>Agency</th>"
        "<th>Update frequency</th><th>Last data update</th><th>Freshness</th>"
        "<th>Missing metadata</th></tr>" + "".join(rows) + "</table>"
    )


def _head(day: dt.date) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Open data use {day.isoformat()}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1440px}"
        ".charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}"
        "svg .t{font-weight:600;font-size:13px}svg .g{stroke:#e3e3e3}"
        "svg .yl{font-size:10px;text-anchor:end;fill:#555}"
        "svg .xl{font-size:10px;text-anchor:middle;fill:#555}"
        "figcaption{font-size:12px;max-width:680px}.k{margin-right:10px;white-space:nowrap}"
        ".k i{display:inline-block;width:10px;height:10px;margin-right:4px}"
        ".kpi{display:flex;gap:24px;margin:12px 0 20px}.kpi div{display:flex;flex-direction:column}"
        ".kpi b{font-size:24px}.kpi span{font-size:12px;color:#555}"
        "table{border-collapse:collapse;font-size:13px;margin-bottom:24px}"
        "td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}"
        "th{background:#f4f4f4}tr.late td{background:#fdecea}.note{font-size:12px;color:#555}"
        "</style></head><body>"
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 or value == 0 else f"{value:g}"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)
