"""The nightly usage report: one self-contained HTML page with inline SVG charts, rendered from
the Jinja2 templates in `templates/` (autoescaped, so dataset names cannot inject markup).

No JavaScript and nothing loaded from elsewhere, so it opens the same on an intranet, from a
file share or as an e-mail attachment. This module computes what the page shows (series, scales,
point positions); the templates only lay it out.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from ctdata.metrics.quality import FRESHNESS_ORDER
from ctdata.metrics.scorecard import AgencyScore

if TYPE_CHECKING:
    import jinja2

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


@dataclass(frozen=True)
class Point:
    x: str
    y: str
    fill: str
    label: str


@dataclass(frozen=True)
class Line:
    name: str
    color: str
    runs: list[str]  # polyline point lists, split where a value is unknown
    points: list[Point]


@dataclass(frozen=True)
class Chart:
    """One SVG line chart, in drawing coordinates."""

    title: str
    y_ticks: list[tuple[str, str, str]]  # (gridline y, label y, label)
    x_labels: list[tuple[str, str, str]]  # (x position, date, text-anchor)
    lines: list[Line] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    label_y: int = HEIGHT - BOTTOM + 16


def render_report(
    day: dt.date,
    rows: Sequence[dict[str, Any]],
    snapshot: Sequence[dict[str, Any]],
    scores: Sequence[AgencyScore],
    *,
    top: int = 10,
    candidates: Sequence[dict[str, Any]] = (),
    late_items: Sequence[dict[str, Any]] = (),
) -> str:
    """The whole page: headline figures, charts per agency and top datasets, the scorecard,
    the freshness table (overdue first), late access plan items and retirement candidates."""
    dates = sorted({r["date"] for r in rows}) or [day]
    filled = {r["date"] for r in rows if r["filled"]}
    by_agency = _series(rows, dates, "agency")
    top_ids = _top_datasets(rows, top)
    names = {r["dataset_id"]: r["name"] for r in rows}
    by_dataset = _series([r for r in rows if r["dataset_id"] in top_ids], dates, "dataset_id")
    top_charts = [
        line_chart(
            f"{label} per day",
            dates,
            {names[i]: by_dataset[key][i] for i in top_ids if i in by_dataset[key]},
            filled,
        )
        for key, label in COUNTERS
    ]
    return (
        _templates()
        .get_template("report.html")
        .render(
            day=day.isoformat(),
            headline=_headline(day, rows, snapshot),
            agency_charts=[
                line_chart(f"{label} per day", dates, by_agency[key], filled)
                for key, label in COUNTERS
            ],
            top_count=len(top_ids),
            top_charts=top_charts,
            scores=scores,
            freshness=[_freshness_row(r) for r in freshness_rows(snapshot)],
            late_items=late_items,
            candidates=candidates,
        )
    )


@cache
def _templates() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("ctdata.metrics", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["pct"] = _pct
    return environment


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


def line_chart(title: str, dates: list[dt.date], series: Series, filled: set[dt.date]) -> Chart:
    """A line chart's geometry: one line per series, y gridlines, date labels, hollow points on
    filled days."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = max((v for vs in series.values() for v in vs if v is not None), default=0)
    ymax, step = nice_scale(peak)
    n = len(dates)

    def x(i: int) -> str:
        return f"{LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2):.1f}"

    def y(v: float) -> str:
        return f"{TOP + plot_h - plot_h * v / ymax:.1f}"

    ticks = [
        (y(k * step), y(k * step - 4 * ymax / plot_h), _fmt(k * step))
        for k in range(int(round(ymax / step)) + 1)
    ]
    # The first label starts at the axis and the last ends at it, so neither is clipped.
    anchors = {0: "start", n - 1: "end"} if n > 1 else {}
    labels = [
        (x(i), dates[i].isoformat(), anchors.get(i, "middle")) for i in sorted({0, n // 2, n - 1})
    ]
    lines = []
    for index, (name, values) in enumerate(series.items()):
        color = PALETTE[index % len(PALETTE)]
        runs: list[list[str]] = [[]]
        points = []
        for i, v in enumerate(values):
            if v is None:
                runs.append([])
                continue
            runs[-1].append(f"{x(i)},{y(v)}")
            fill = "#fff" if dates[i] in filled else color
            points.append(Point(x(i), y(v), fill, f"{name} {dates[i].isoformat()}: {v}"))
        lines.append(Line(str(name), color, [" ".join(r) for r in runs if len(r) > 1], points))
    return Chart(title, ticks, labels, lines)


def nice_scale(peak: float) -> tuple[float, float]:
    """An axis maximum >= peak and a round tick step (1, 2 or 5 times a power of ten)."""
    if peak <= 0:
        return 1.0, 1.0
    raw = peak / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1.0)
    return step * math.ceil(peak / step), step


def _headline(
    day: dt.date, rows: Sequence[dict[str, Any]], snapshot: Sequence[Any]
) -> list[tuple[str, int]]:
    today = [r for r in rows if r["date"] == day]
    return [
        ("Datasets measured", len(snapshot)),
        *((label, sum(r.get(key) or 0 for r in today)) for key, label in COUNTERS),
        ("Overdue", sum(1 for r in snapshot if r["freshness"] == "overdue")),
        ("Missing metadata", sum(1 for r in snapshot if r["missing_metadata"])),
    ]


def freshness_rows(snapshot: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overdue first (most overdue on top), then unknown, on time, no schedule, historical."""
    rank = {status: i for i, status in enumerate(FRESHNESS_ORDER)}
    return sorted(
        snapshot,
        key=lambda r: (rank.get(r["freshness"], 99), -r["days_overdue"], r["agency"], r["name"]),
    )


def _freshness_row(r: dict[str, Any]) -> dict[str, Any]:
    status = r["freshness"]
    if status == "overdue":
        days = r["days_overdue"]
        status = f"overdue by {days} day{'s' if days != 1 else ''}"
    return {
        "name": r["name"],
        "dataset_id": r["dataset_id"],
        "agency": r["agency"],
        "frequency": r["update_frequency"] or "not set",
        "last_update": r["last_update"].isoformat() if r["last_update"] else "never",
        "status": status,
        "late": r["freshness"] == "overdue",
        "missing": ", ".join(r["missing_metadata"]) or "complete",
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 or value == 0 else f"{value:g}"
