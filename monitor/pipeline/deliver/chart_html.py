"""Score bars for the e-mail as table-cell widths (mail clients render them; no image, no SVG)."""

from __future__ import annotations

from dataclasses import dataclass

CANDIDATE_COLOR = "#3b6ea5"
BASELINE_COLOR = "#9aa5b1"
TRACK_COLOR = "#eceff2"
WHISKER_COLOR = "#1f2933"


@dataclass(frozen=True)
class ScoreBar:
    """One model's bar in a suite: widths in whole percent of the track, and its labels.

    `filled` + `empty` is 100; the interval row is `before` + `span` + `after` = 100 (all zero
    when there is no interval). Zero-width cells are left out by the template.
    """

    role: str
    model: str
    color: str
    value: str
    interval: str
    filled: int
    empty: int
    before: int
    span: int
    after: int


@dataclass(frozen=True)
class ScoreGroup:
    """One suite's bars: the candidate, then the baseline when there is one."""

    suite: str
    bars: list[ScoreBar]


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _width(value: float) -> int:
    return round(min(1.0, max(0.0, value)) * 100)


def score_bar(
    role: str, model: str, mean: float | None, low: float | None, high: float | None, *, color: str
) -> ScoreBar:
    """A bar of `mean` (None: an empty track labelled "no score") with its 95% interval below it.

    `model` is shown as given: the caller has already cleaned it of control characters.
    """
    filled = 0 if mean is None else _width(mean)
    if low is not None and high is not None and mean is not None:
        before = _width(low)
        span = max(1, _width(high) - before) if high > low else 1
        before = min(before, 100 - span)
        interval = f"95% CI {_pct(low)} – {_pct(high)}"
    else:
        before = span = 0
        interval = "no interval"
    return ScoreBar(
        role=role,
        model=model,
        color=color,
        value="no score" if mean is None else _pct(mean),
        interval=interval,
        filled=filled,
        empty=100 - filled,
        before=before,
        span=span,
        after=100 - before - span if span else 0,
    )
