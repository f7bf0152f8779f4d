"""One run's statistics from its stored results: score and pass rate with error bars, latency, cost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from monitor.core.errors import MonitorError
from monitor.providers.pricing import ESTIMATED_PREFIX
from monitor.stats.estimate import ScoreEstimate, percentile, run_score
from monitor.store.statuses import result_errored
from monitor.store.tables import Result, Run, Sample

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass
class RunStats:
    """One run's score with its error bar, outcome counts, latency, tokens and cost."""

    run_id: int
    model_key: str
    suite: str
    suite_version: str
    status: str
    score: ScoreEstimate
    pass_rate: ScoreEstimate
    samples: int
    passed: int
    failed: int
    errored: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    cost_per_1k: float | None
    repeat: int
    resolved_model: str | None
    cost_source: str | None = None  # where the prices came from: "config", "catalogue (…)", "estimated …"
    cost_estimated: bool = False  # the cost is an upper bound standing in for an unknown price


def is_errored(result: Result) -> bool:
    """Whether a result failed (an error kind or no score): errors are counted apart, never as 0."""
    return result_errored(result.error_kind, result.score)


def _result_cost_unknown(result: Result) -> bool:
    """Unknown when no cost is recorded yet tokens were used (an error before any reply costs 0)."""
    if result.cost_usd is not None:
        return False
    if not is_errored(result):
        return True
    return bool(result.input_tokens or result.output_tokens)


def run_results(session: Session, run_id: int) -> list[Result]:
    """Every stored result of a run, in the order they were stored."""
    return list(session.scalars(select(Result).where(Result.run_id == run_id).order_by(Result.id)))


def suite_samples(session: Session, suite_id: int) -> dict[str, Sample]:
    """A suite version's samples by key, in suite order."""
    rows = session.scalars(select(Sample).where(Sample.suite_id == suite_id).order_by(Sample.position))
    return {sample.key: sample for sample in rows}


def stats_from(run: Run, results: Sequence[Result], samples: dict[str, Sample]) -> RunStats:
    """A run's statistics from results already loaded (groups taken from its samples)."""
    scored = [r for r in results if not is_errored(r)]
    groups = {key: sample.group for key, sample in samples.items()}
    estimate = run_score(((r.sample_key, r.score, is_errored(r)) for r in results), groups)
    passes = ((r.sample_key, 1.0 if r.passed else 0.0, is_errored(r)) for r in results)
    pass_rate = run_score(passes, groups)
    cost: float | None = run.cost_usd
    if any(_result_cost_unknown(r) for r in results):
        cost = None
    cost_per_1k = cost / len(scored) * 1000 if cost is not None and scored else None
    sources = sorted({r.price_source for r in results if r.price_source})
    resolved = run.resolved_model or next((r.resolved_model for r in scored if r.resolved_model), None)
    return RunStats(
        run_id=run.id,
        model_key=run.model_key,
        suite=run.suite.name,
        suite_version=run.suite.version,
        status=run.status,
        score=estimate,
        pass_rate=pass_rate,
        samples=len(results),
        passed=sum(1 for r in scored if r.passed),
        failed=sum(1 for r in scored if not r.passed),
        errored=len(results) - len(scored),
        latency_p50_ms=percentile([r.latency_ms for r in scored if r.latency_ms is not None], 50),
        latency_p95_ms=percentile([r.latency_ms for r in scored if r.latency_ms is not None], 95),
        input_tokens=sum(r.input_tokens or 0 for r in results),
        output_tokens=sum(r.output_tokens or 0 for r in results),
        cost_usd=cost,
        cost_per_1k=cost_per_1k,
        repeat=run.repeat,
        resolved_model=resolved,
        cost_source="; ".join(sources) or None,
        cost_estimated=any(s.startswith(ESTIMATED_PREFIX) for s in sources),
    )


def get_run(session: Session, run_id: int) -> Run:
    """The run with this id; MonitorError when there is none."""
    run = session.get(Run, run_id)
    if run is None:
        raise MonitorError(f"run {run_id} does not exist")
    return run


def run_stats(session: Session, run_id: int) -> RunStats:
    """Statistics of one run: errored results are counted apart and never lower the score.

    `samples`, `passed`, `failed` and `errored` count results (each repeat is one); the score is the
    mean over samples of each sample's mean over repeats; cost per 1,000 is per non-errored result.
    """
    run = get_run(session, run_id)
    return stats_from(run, run_results(session, run_id), suite_samples(session, run.suite_id))
