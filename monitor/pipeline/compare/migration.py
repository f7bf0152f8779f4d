"""A retirement event's migration comparison: each candidate against the retiring model, one recommendation.

Each candidate's runs of the event are paired with the retiring model's run on the same suite
version (the event's own, else its latest finished one), Holm-adjusted across that candidate's
suites. The recommendation is the cheapest candidate with no worse verdict on any suite it was
compared on (cost per 1,000 samples summed over those suites; an unknown cost ranks last); when
every compared candidate is worse somewhere, the best scoring one (largest mean difference).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import mean
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from monitor.core.errors import MonitorError
from monitor.pipeline.compare.pairing import SuiteComparison, compare_runs
from monitor.pipeline.compare.runs import run_stats
from monitor.pipeline.compare.selection import baseline_run
from monitor.pipeline.compare.summary import EventComparison, apply_holm, summarise
from monitor.providers.spending import reprice
from monitor.stats.verdicts import VERDICT_WORSE
from monitor.store.statuses import COMPLETED
from monitor.store.tables import Event, Run, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config

RULE_CHEAPEST = "cheapest candidate with no worse verdict"
RULE_BEST = "every candidate is worse on some suite: the best scoring one"
RULE_NONE = "no candidate could be compared with the retiring model"


@dataclass
class CandidateResult:
    """One candidate against the retiring model: its comparison and the figures the choice uses."""

    model: str
    comparison: EventComparison
    compared: int  # suites with a verdict against the retiring model
    worse: int
    cost_per_1k: float | None  # summed over the compared suites; None when any is unknown
    retiring_cost_per_1k: float | None
    cost_estimated: bool
    latency_p50_ms: float | None  # mean of the compared suites' medians
    retiring_latency_p50_ms: float | None
    mean_delta: float | None  # mean score difference over the compared suites

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "headline": self.comparison.headline,
            "compared": self.compared,
            "worse": self.worse,
            "cost_per_1k": self.cost_per_1k,
            "retiring_cost_per_1k": self.retiring_cost_per_1k,
            "latency_p50_ms": self.latency_p50_ms,
            "mean_delta": self.mean_delta,
        }


@dataclass
class Migration:
    """The migration report's content: the retiring model, its date, every candidate, the choice."""

    event_id: int
    retiring: str
    date: dt.date | None
    source: str | None
    days_left: int | None
    candidates: list[CandidateResult]
    recommended: str | None
    rule: str
    alpha: float
    notes: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        when = f"retires on {self.date.isoformat()}" if self.date else "is retiring"
        if self.days_left is not None:
            when += f" (in {self.days_left} days)" if self.days_left >= 0 else " (already past)"
        if self.recommended is None:
            return f"{self.retiring} {when}: {RULE_NONE}"
        return f"{self.retiring} {when}; recommended replacement: {self.recommended} ({self.rule})"

    def summary(self) -> EventComparison:
        """The recommended candidate's comparison under the migration headline (for e-mail and chat)."""
        chosen = next((c for c in self.candidates if c.model == self.recommended), None)
        if chosen is None:
            return EventComparison(self.retiring, [], [], 0, 0, 0, 0, None, self.headline, self.alpha)
        return dataclasses.replace(
            chosen.comparison, headline=f"{self.headline}; {chosen.comparison.headline}"
        )

    def recommendation_record(self) -> dict[str, Any]:
        """What the event records: the choice, the rule that made it, and each candidate's figures."""
        return {
            "model": self.recommended,
            "rule": self.rule,
            "candidates": [c.as_dict() for c in self.candidates],
        }


def compare_migration(
    session: Session, config: Config, event_id: int, *, today: dt.date | None = None
) -> Migration:
    """Compare every candidate the retirement event planned with the retiring model, and recommend one."""
    event = session.get(Event, event_id)
    if event is None or event.kind != "retirement":
        raise MonitorError(f"event {event_id} is not a retirement event")
    reprice(session, config)
    detail = event.detail or {}
    retiring = event.model_key
    event_runs = list(session.scalars(select(Run).where(Run.event_id == event_id).order_by(Run.id.desc())))
    names = [str(c) for c in detail.get("candidates") or []]
    names += [r.model_key for r in event_runs if r.model_key not in names and r.model_key != retiring]
    alpha = config.stats.alpha
    results = [
        _candidate(session, config, name, retiring, event_runs, alpha) for name in dict.fromkeys(names)
    ]
    recommended, rule = recommend(results)
    date = dt.date.fromisoformat(detail["date"]) if detail.get("date") else None
    today = today or utcnow().date()
    return Migration(
        event_id=event_id,
        retiring=retiring,
        date=date,
        source=detail.get("source"),
        days_left=(date - today).days if date else None,
        candidates=results,
        recommended=recommended,
        rule=rule,
        alpha=alpha,
        notes=[str(n) for n in detail.get("notes") or []],
    )


def recommend(results: Sequence[CandidateResult]) -> tuple[str | None, str]:
    """The recommended candidate and the rule that chose it (module docstring)."""
    compared = [r for r in results if r.compared]
    if not compared:
        return None, RULE_NONE
    safe = [r for r in compared if r.worse == 0]
    if safe:
        cheapest = min(
            safe,
            key=lambda r: (r.cost_per_1k is None, r.cost_per_1k or 0.0, -(r.mean_delta or 0.0), r.model),
        )
        return cheapest.model, RULE_CHEAPEST
    best = max(compared, key=lambda r: (r.mean_delta or 0.0, r.model))
    return best.model, RULE_BEST


def _latest_per_suite(runs: Sequence[Run]) -> list[Run]:
    latest: dict[int, Run] = {}
    for run in sorted(runs, key=lambda r: (r.status in COMPLETED, r.id)):
        latest[run.suite_id] = run
    return sorted(latest.values(), key=lambda r: (r.suite.name, r.id))


def _candidate(
    session: Session, config: Config, name: str, retiring: str, event_runs: Sequence[Run], alpha: float
) -> CandidateResult:
    comparisons: list[SuiteComparison] = []
    for run in _latest_per_suite([r for r in event_runs if r.model_key == name]):
        base = baseline_run(session, retiring, run, event_runs) if run.status in COMPLETED else None
        if base is not None:
            comparisons.append(
                compare_runs(session, run.id, base.id, alpha=alpha, min_effect=config.stats.min_effect)
            )
            continue
        if run.status in COMPLETED:
            note = f"no finished run of {retiring} on suite version {run.suite.version}"
        else:
            note = f"run {run.status}" + (f": {run.error}" if run.error else "")
        comparisons.append(
            SuiteComparison(
                run.suite.name, run.suite.version, run_stats(session, run.id), None, None, [], True, note
            )
        )
    apply_holm(comparisons, alpha)
    summary = summarise(name, [retiring], comparisons, alpha, against=retiring)
    paired = [c for c in comparisons if c.paired is not None and c.baseline is not None]
    return CandidateResult(
        model=name,
        comparison=summary,
        compared=len(paired),
        worse=sum(1 for c in paired if c.paired is not None and c.paired.verdict == VERDICT_WORSE),
        cost_per_1k=_total([c.candidate.cost_per_1k for c in paired]),
        retiring_cost_per_1k=_total([c.baseline.cost_per_1k for c in paired if c.baseline is not None]),
        cost_estimated=any(
            c.candidate.cost_estimated or (c.baseline is not None and c.baseline.cost_estimated)
            for c in paired
        ),
        latency_p50_ms=_mean([c.candidate.latency_p50_ms for c in paired]),
        retiring_latency_p50_ms=_mean([c.baseline.latency_p50_ms for c in paired if c.baseline is not None]),
        mean_delta=_mean([c.paired.delta for c in paired if c.paired is not None]),
    )


def _total(values: Sequence[float | None]) -> float | None:
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return mean(known) if known else None
