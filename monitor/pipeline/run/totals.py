"""A run's totals: computed from its stored results, written on its row, read back as a RunSummary."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select, update

from monitor.core.errors import MonitorError
from monitor.providers import pricing
from monitor.store.db import Database
from monitor.store.statuses import ANSWER_ERROR_KINDS, COMPLETED
from monitor.store.tables import Result, Run, Sample, utcnow


@dataclass(frozen=True)
class RunSummary:
    """A run's totals as stored on its row; `cost_usd` None means cost unknown."""

    run_id: int
    model_key: str
    suite: str
    suite_version: str
    status: str
    samples_total: int
    done: int
    passed: int
    failed: int
    errored: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    estimated_cost_usd: float | None
    error: str | None = None
    # Where the price of the run's calls came from (config, catalogue, estimated upper bound).
    cost_source: str | None = None
    # Why the run stopped early and after how many samples of its random order (None: it did not).
    stop_reason: str | None = None
    stopped_after: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def finish_run(db: Database, run_id: int, status: str, error: str | None) -> RunSummary:
    """Compute the run's totals from its stored results, write them with the final status.

    A run `done` with errored samples (other than the model's own refusals and cut-off answers) is
    stored `done_with_errors`: `resume` retries exactly those.
    """
    from monitor.stats.estimate import percentile, run_score

    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise MonitorError(f"run {run_id} does not exist")
        rows = session.execute(
            select(
                Result.sample_key,
                Result.score,
                Result.passed,
                Result.error_kind,
                Result.latency_ms,
                Result.input_tokens,
                Result.output_tokens,
                Result.cost_usd,
                Result.resolved_model,
                Result.system_fingerprint,
            ).where(Result.run_id == run_id)
        ).all()
        groups = {
            k: v
            for k, v in session.execute(
                select(Sample.key, Sample.group).where(Sample.suite_id == run.suite_id)
            )
        }
        estimate = run_score(((r.sample_key, r.score, r.error_kind is not None) for r in rows), groups)
        latencies = [r.latency_ms for r in rows if r.latency_ms is not None]
        answered = [r for r in rows if r.error_kind is None]
        costs = [r.cost_usd for r in rows]
        models = Counter(r.resolved_model for r in answered if r.resolved_model)
        fingerprints = Counter(r.system_fingerprint for r in answered if r.system_fingerprint)
        errored = sum(1 for r in rows if r.error_kind is not None)
        # A run stopped early is complete: its verdict is settled, so its errors are not holes to retry.
        stopped = run.stopped_after is not None
        if (
            status == "done"
            and not stopped
            and any(r.error_kind not in (None, *ANSWER_ERROR_KINDS) for r in rows)
        ):
            status = "done_with_errors"
        values = {
            "status": status,
            "error": error,
            "finished_at": utcnow() if status in (*COMPLETED, "failed", "interrupted") else None,
            "samples_total": run.suite.sample_count * max(1, run.repeat),
            "passed": sum(1 for r in answered if r.passed),
            "failed": sum(1 for r in answered if r.passed is False),
            "errored": errored,
            "score": estimate.mean,
            "cost_usd": pricing.add_costs(costs) if rows else 0.0,  # nothing sent, nothing spent
            "input_tokens": sum(r.input_tokens or 0 for r in rows),
            "output_tokens": sum(r.output_tokens or 0 for r in rows),
            "latency_p50_ms": percentile(latencies, 50),
            "latency_p95_ms": percentile(latencies, 95),
            "resolved_model": models.most_common(1)[0][0] if models else None,
            "system_fingerprint": fingerprints.most_common(1)[0][0] if fingerprints else None,
        }
        if status != "running":
            values["claimed_by"] = None
        session.execute(update(Run).where(Run.id == run_id).values(**values))
    return summarize_run(db, run_id)


def summarize_run(db: Database, run_id: int) -> RunSummary:
    """The summary of a stored run (its interval recomputed from its results)."""
    from monitor.stats.estimate import run_score

    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise MonitorError(f"run {run_id} does not exist")
        rows = session.execute(
            select(Result.sample_key, Result.score).where(
                Result.run_id == run_id, Result.error_kind.is_(None), Result.score.is_not(None)
            )
        ).all()
        groups = {
            k: v
            for k, v in session.execute(
                select(Sample.key, Sample.group).where(Sample.suite_id == run.suite_id)
            )
        }
        done = session.scalar(select(func.count(Result.id)).where(Result.run_id == run_id)) or 0
        source = session.scalar(
            select(Result.price_source)
            .where(Result.run_id == run_id, Result.price_source.is_not(None))
            .order_by(Result.id.desc())
            .limit(1)
        )
        estimate = run_score(((key, score, False) for key, score in rows), groups)
        return RunSummary(
            run_id=run.id,
            model_key=run.model_key,
            suite=run.suite.name,
            suite_version=run.suite.version,
            status=run.status,
            samples_total=run.samples_total,
            done=int(done),
            passed=run.passed,
            failed=run.failed,
            errored=run.errored,
            score=run.score,
            ci_low=estimate.ci.low if estimate.ci else None,
            ci_high=estimate.ci.high if estimate.ci else None,
            latency_p50_ms=run.latency_p50_ms,
            latency_p95_ms=run.latency_p95_ms,
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
            cost_usd=run.cost_usd,
            estimated_cost_usd=run.estimated_cost_usd,
            error=run.error,
            cost_source=source,
            stop_reason=run.stop_reason,
            stopped_after=run.stopped_after,
        )
