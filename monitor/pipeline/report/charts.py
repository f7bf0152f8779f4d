"""Hand-built inline SVG line charts of score histories (no JavaScript, no external assets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from markupsafe import Markup, escape

# Muted, distinguishable on screen and in greyscale print (different lightness).
PALETTE = ("#3b6ea5", "#c0703a", "#4e8a5b", "#8e5a9b", "#a8474b", "#5f8f9f", "#9a8a3c", "#6b6b6b")

WIDTH = 640
HEIGHT = 200
LEFT = 44
RIGHT = 12
TOP = 12
BOTTOM = 28


@dataclass
class ChartPoint:
    """One run on the chart: when it finished, its score in [0, 1] and a hover label."""

    when: datetime
    score: float
    label: str


@dataclass
class ChartSeries:
    """One model's score history, oldest first."""

    name: str
    color: str
    points: list[ChartPoint] = field(default_factory=list)


def series_color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def line_chart(series: list[ChartSeries], title: str) -> Markup:
    """An SVG chart, y from 0% to 100%, x by time; each point carries a <title> tooltip."""
    times = [p.when.timestamp() for s in series for p in s.points]
    t_min, t_max = (min(times), max(times)) if times else (0.0, 0.0)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def x(when: datetime) -> float:
        if t_max == t_min:
            return LEFT + plot_w / 2
        return LEFT + (when.timestamp() - t_min) / (t_max - t_min) * plot_w

    def y(score: float) -> float:
        return TOP + (1 - min(max(score, 0.0), 1.0)) * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        ty = _fmt(y(tick))
        parts.append(
            f'<line x1="{LEFT}" y1="{ty}" x2="{WIDTH - RIGHT}" y2="{ty}" stroke="#e3e1dc" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{ty}" dy="0.32em" text-anchor="end" font-size="10" '
            f'fill="#77736b">{int(tick * 100)}%</text>'
        )
    if times:
        first = min(p.when for s in series for p in s.points)
        last = max(p.when for s in series for p in s.points)
        base = HEIGHT - BOTTOM + 16
        span = last - first
        stamp = (
            "%Y-%m-%d"
            if span >= timedelta(days=2)
            else "%m-%d %H:%M"
            if span >= timedelta(hours=1)
            else "%H:%M:%S"
        )
        parts.append(
            f'<text x="{LEFT}" y="{base}" font-size="10" fill="#77736b">{first.strftime(stamp)}</text>'
        )
        if last != first:
            parts.append(
                f'<text x="{WIDTH - RIGHT}" y="{base}" text-anchor="end" font-size="10" '
                f'fill="#77736b">{last.strftime(stamp)}</text>'
            )
    for s in series:
        coords = [(x(p.when), y(p.score)) for p in s.points]
        if len(coords) > 1:
            path = " ".join(f"{_fmt(cx)},{_fmt(cy)}" for cx, cy in coords)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2" '
                f'stroke-linejoin="round"/>'
            )
        for (cx, cy), point in zip(coords, s.points, strict=True):
            parts.append(
                f'<circle cx="{_fmt(cx)}" cy="{_fmt(cy)}" r="3.5" fill="#fff" stroke="{s.color}" '
                f'stroke-width="2"><title>{escape(point.label)}</title></circle>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
