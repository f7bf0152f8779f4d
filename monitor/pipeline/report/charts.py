"""Hand-built inline SVG line charts of score histories: dated axis, score labels, no JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from markupsafe import Markup, escape

# Muted, distinguishable on screen and in greyscale print (different lightness).
PALETTE = ("#3b6ea5", "#c0703a", "#4e8a5b", "#8e5a9b", "#a8474b", "#5f8f9f", "#9a8a3c", "#6b6b6b")

WIDTH = 640
HEIGHT = 236
LEFT = 44
RIGHT = 36
TOP = 22
BOTTOM = 44
FONT = 10
TICK_GAP = 84  # least distance between two date labels on the time axis, in SVG units
LABEL_W = 34  # room taken by a score label such as "86.0%", in SVG units
LABEL_H = 11
INSET = 24  # the first and last runs sit this far inside the plot, clear of the 0%-100% labels


@dataclass
class ChartPoint:
    """One run on the chart: when it finished, its score in [0, 1], the score as shown, a hover label."""

    when: datetime
    score: float
    value: str
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


def _stamp(first: datetime, last: datetime) -> str:
    """The date format for the time axis: whole days over a long span, minutes or seconds otherwise."""
    span = last - first
    if span >= timedelta(days=2):
        return "%Y-%m-%d"
    if span >= timedelta(hours=1) or span == timedelta(0):
        return "%m-%d %H:%M"
    return "%H:%M:%S"


def _ticks(times: list[datetime], x: Callable[[datetime], float]) -> list[datetime]:
    """Run times to label on the axis: the first, the last, and others at least TICK_GAP apart."""
    chosen: list[datetime] = []
    for when in sorted(set(times)):
        if not chosen or x(when) - x(chosen[-1]) >= TICK_GAP:
            chosen.append(when)
    last = max(times)
    if chosen[-1] != last:
        if len(chosen) > 1 and x(last) - x(chosen[-1]) < TICK_GAP:
            chosen.pop()
        chosen.append(last)
    return chosen


class _Labels:
    """Places score labels above (else below) their points, leaving out any that would overlap."""

    def __init__(self) -> None:
        self.boxes: list[tuple[float, float]] = []

    def place(self, cx: float, cy: float) -> float | None:
        for ty in (cy - 7, cy + 15):
            if ty - LABEL_H < 0 or ty > HEIGHT - BOTTOM + 2:
                continue
            if all(abs(cx - bx) >= LABEL_W or abs(ty - by) >= LABEL_H for bx, by in self.boxes):
                self.boxes.append((cx, ty))
                return ty
        return None


def line_chart(series: list[ChartSeries], title: str) -> Markup:
    """An SVG chart, y from 0% to 100%, x by time: dates on the axis, each point labelled with its
    score where the label fits (the latest points first), and a <title> tooltip on every point.

    Everything from the database (names, labels, the title) is escaped.
    """
    points = [p for s in series for p in s.points]
    times = [p.when for p in points]
    t_min, t_max = (min(times).timestamp(), max(times).timestamp()) if times else (0.0, 0.0)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def x(when: datetime) -> float:
        if t_max == t_min:
            return LEFT + plot_w / 2
        return LEFT + INSET + (when.timestamp() - t_min) / (t_max - t_min) * (plot_w - 2 * INSET)

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
            f'<text x="{LEFT - 6}" y="{ty}" dy="0.32em" text-anchor="end" font-size="{FONT}" '
            f'fill="#77736b">{int(tick * 100)}%</text>'
        )
    axis_y = HEIGHT - BOTTOM
    if times:
        stamp = _stamp(min(times), max(times))
        for when in _ticks(times, x):
            tx = _fmt(x(when))
            parts.append(
                f'<line x1="{tx}" y1="{axis_y}" x2="{tx}" y2="{axis_y + 4}" '
                f'stroke="#77736b" stroke-width="1"/>'
            )
            parts.append(
                f'<text x="{tx}" y="{axis_y + 16}" text-anchor="middle" font-size="{FONT}" '
                f'fill="#55524b">{when.strftime(stamp)}</text>'
            )
        parts.append(
            f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end" font-size="{FONT}" '
            f'fill="#77736b">run finished (UTC)</text>'
        )
    labels = _Labels()
    placed: dict[int, float] = {}
    for point in sorted(points, key=lambda p: p.when, reverse=True):
        where = labels.place(x(point.when), y(point.score))
        if where is not None:
            placed[id(point)] = where
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
            if id(point) in placed:
                parts.append(
                    f'<text x="{_fmt(cx)}" y="{_fmt(placed[id(point)])}" text-anchor="middle" '
                    f'font-size="{FONT}" fill="{s.color}">{escape(point.value)}</text>'
                )
    parts.append("</svg>")
    return Markup("".join(parts))
