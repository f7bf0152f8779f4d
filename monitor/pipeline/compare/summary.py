"""Sum an event's suite comparisons up: Holm across suites, verdict counts, cost change, one headline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.pipeline.compare.pairing import SuiteComparison
from monitor.pipeline.compare.variants import VariantGroup
from monitor.stats.verdicts import (
    UNDECIDED,
    VERDICT_BETTER,
    VERDICT_ERRORS,
    VERDICT_FEW_GROUPS,
    VERDICT_SAME,
    VERDICT_TOO_SMALL,
    VERDICT_WORSE,
    with_verdicts,
)


@dataclass
class EventComparison:
    """A candidate model against its baseline(s) on every suite, with counts and a one-line headline."""

    candidate: str
    baselines: list[str]
    suites: list[SuiteComparison]
    better: int
    worse: int
    same: int
    undecided: int
    cost_change_pct: float | None
    headline: str
    alpha: float
    notes: list[str] = field(default_factory=list)
    variants: list[VariantGroup] = field(default_factory=list)  # suites with prompt variants


def apply_holm(comparisons: list[SuiteComparison], alpha: float) -> None:
    """Holm across the suites of one comparison; each verdict follows its adjusted p-value."""
    compared = [c for c in comparisons if c.paired is not None]
    adjusted = with_verdicts([c.paired for c in compared if c.paired is not None], alpha)
    for comparison, paired in zip(compared, adjusted, strict=True):
        comparison.paired = paired
        comparison.too_small = paired.verdict in UNDECIDED


def _cost_change_pct(comparisons: Sequence[SuiteComparison]) -> float | None:
    """Change of cost per 1,000 samples, summed over the compared suites; None when any cost is unknown
    or only an upper-bound estimate (a bound says nothing about the real change)."""
    pairs = [c for c in comparisons if c.baseline is not None and c.paired is not None]
    if not pairs or _estimated(pairs):
        return None
    cand = [c.candidate.cost_per_1k for c in pairs]
    base = [c.baseline.cost_per_1k for c in pairs if c.baseline is not None]
    if any(v is None for v in cand) or any(v is None for v in base):
        return None
    cand_total = sum(v for v in cand if v is not None)
    base_total = sum(v for v in base if v is not None)
    if base_total == 0:
        return 0.0 if cand_total == 0 else None
    return (cand_total / base_total - 1) * 100


def _estimated(comparisons: Sequence[SuiteComparison]) -> bool:
    """Whether a compared run's cost is an upper bound for a model nobody has priced yet."""
    return any(
        c.candidate.cost_estimated or (c.baseline is not None and c.baseline.cost_estimated)
        for c in comparisons
        if c.paired is not None
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _headline(
    candidate: str,
    comparisons: Sequence[SuiteComparison],
    better: int,
    worse: int,
    cost_change: float | None,
    against: str,
) -> str:
    compared = [c for c in comparisons if c.paired is not None]
    if not comparisons:
        return f"{candidate}: no suite was evaluated"
    if not compared:
        reasons = sorted({c.note for c in comparisons if c.note})
        why = f" ({'; '.join(reasons)})" if reasons else ""
        return f"{candidate}: nothing to compare against{why}"
    total = len(compared)
    of_total = f"of {_plural(total, 'suite')}"
    if better and worse:
        text = f"{candidate} is better than {against} on {better} and worse on {worse} {of_total}"
    elif better:
        text = f"{candidate} is better than {against} on {better} {of_total}"
    elif worse:
        text = f"{candidate} is worse than {against} on {worse} {of_total}"
    elif any(c.paired is not None and c.paired.verdict == VERDICT_SAME for c in compared):
        text = f"{candidate} shows no measurable difference from {against} on {_plural(total, 'suite')}"
    else:
        text = f"{candidate}: no verdict against {against} on {_plural(total, 'suite')}"
    undecided = [
        (verdict, sum(1 for c in compared if c.paired is not None and c.paired.verdict == verdict))
        for verdict in (VERDICT_TOO_SMALL, VERDICT_FEW_GROUPS, VERDICT_ERRORS)
    ]
    parts = [f"{count} {verdict}" for verdict, count in undecided if count]
    if parts:
        text += f" ({', '.join(parts)})"
    if cost_change is None and _estimated(compared):
        text += ", cost not priced yet (an estimate)"
    elif cost_change is None:
        text += ", cost unknown"
    elif round(cost_change) == 0:
        text += ", same cost"
    elif cost_change < 0:
        text += f", {abs(cost_change):.0f}% cheaper"
    else:
        text += f", {cost_change:.0f}% more expensive"
    uncompared = len(comparisons) - total
    if uncompared:
        text += f"; {_plural(uncompared, 'suite')} not compared"
    return text


def summarise(
    candidate: str, baselines: list[str], comparisons: list[SuiteComparison], alpha: float, *, against: str
) -> EventComparison:
    verdicts = [c.paired.verdict for c in comparisons if c.paired is not None]
    better, worse = verdicts.count(VERDICT_BETTER), verdicts.count(VERDICT_WORSE)
    cost_change = _cost_change_pct(comparisons)
    return EventComparison(
        candidate=candidate,
        baselines=baselines,
        suites=comparisons,
        better=better,
        worse=worse,
        same=verdicts.count(VERDICT_SAME),
        undecided=sum(1 for v in verdicts if v in UNDECIDED),
        cost_change_pct=cost_change,
        headline=_headline(candidate, comparisons, better, worse, cost_change, against),
        alpha=alpha,
    )
