"""Numbers, money, durations and times as report cells show them (the Jinja filters)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any


def fmt_pct(value: float | None) -> str:
    """A share in [0, 1] as a percentage with one decimal; a dash when unknown."""
    return "—" if value is None or not math.isfinite(value) else f"{value * 100:.1f}%"


def fmt_interval(interval: Any) -> str:
    """An interval of shares as a percentage range, clamped to 0–100%."""
    if interval is None:
        return ""
    return f"{max(interval.low, 0.0) * 100:.1f}–{min(interval.high, 1.0) * 100:.1f}%"


def fmt_p(value: float | None) -> str:
    """A p-value for a table cell whose header says p: `0.012` or `< 0.001`."""
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fmt_usd(value: float | None) -> str:
    """Dollars, with four decimals below a cent; "cost unknown" when unknown."""
    if value is None:
        return "cost unknown"
    if value == 0:
        return "$0"
    return f"${value:,.4f}" if abs(value) < 0.01 else f"${value:,.2f}"


def fmt_ms(value: float | None) -> str:
    """Milliseconds, rounded, with thousands separators."""
    return "—" if value is None else f"{value:,.0f} ms"


def fmt_int(value: int | None) -> str:
    """A count with thousands separators."""
    return "—" if value is None else f"{value:,}"


def fmt_time(value: datetime | None) -> str:
    """A UTC time to the minute."""
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def fmt_score(value: float | None) -> str:
    """A grader's score with three significant digits."""
    return "—" if value is None else f"{value:.3g}"
