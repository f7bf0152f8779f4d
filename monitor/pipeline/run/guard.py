"""The cost guard: estimate what is left of a run, store the estimate, reserve it on the day's budget."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from monitor.core.config import Config
from monitor.core.errors import MonitorError
from monitor.pipeline.run.rebuild import resolve_suite_spec
from monitor.providers import pricing, spending
from monitor.store import shared_limits
from monitor.store.db import Database
from monitor.store.statuses import COMPLETED
from monitor.store.tables import BudgetHold, Result, Run, utcnow

# Runs whose spending is over: their reservation is settled with their real cost.
SETTLED_STATUSES = (*COMPLETED, "failed", "interrupted", "skipped")

if TYPE_CHECKING:
    from monitor.evals.loader import SuiteSpec


def remaining_messages(
    db: Database, config: Config, run_id: int, spec: SuiteSpec | None = None
) -> tuple[SuiteSpec, Run, int]:
    """The run's spec (`spec` when the caller read this version already), the run, and how many of
    its calls are not stored yet."""
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise MonitorError(f"run {run_id} does not exist")
        stored = session.scalar(
            select(func.count(Result.id)).where(Result.run_id == run_id, Result.error_kind.is_(None))
        )
        session.expunge(run.suite)
        session.expunge(run)
    if spec is None or spec.version != run.suite.version:
        spec = resolve_suite_spec(db, config, run.suite)
    return spec, run, int(stored or 0)


def judge_estimates(
    config: Config, spec: SuiteSpec, params: dict[str, Any], repeat: int
) -> tuple[pricing.JudgeEstimate, ...]:
    """The suite's judge verdicts by judge model: one uncached call per sample, llm_judge grader and
    repeat, its prompt and an answer of max_tokens in, the judge's reply cap out (as the cost cap
    reserves each verdict); a grader with no judge model makes no call."""
    from monitor.evals.graders.custom import LLMJudgeGrader
    from monitor.evals.judge import MAX_TOKENS, verdict_input_tokens

    default = spec.judge_model or config.judge.model
    answer_tokens = pricing.output_tokens_for(params)
    calls: dict[str, int] = {}
    tokens: dict[str, int] = {}
    judged = [g for g in spec.graders if isinstance(g, LLMJudgeGrader)]
    for grader in judged:
        key = grader.model or default
        if key is None:
            continue
        for sample in spec.samples:
            calls[key] = calls.get(key, 0) + repeat
            tokens[key] = (
                tokens.get(key, 0) + verdict_input_tokens(grader.rubric, sample, answer_tokens) * repeat
            )
    return tuple(
        pricing.estimate_judge(config, key, calls[key], tokens[key], MAX_TOKENS * calls[key])
        for key in sorted(calls)
    )


def estimate_for_run(
    db: Database, config: Config, run_id: int, *, spec: SuiteSpec | None = None
) -> pricing.RunEstimate:
    """The cost estimate of what is left of a run (all of it for a new one): its calls and its judges'."""
    spec, run, stored = remaining_messages(db, config, run_id, spec)
    params = {**(spec.params or {}), **(run.params or {})}
    full = pricing.estimate_run(
        config,
        run.model_key,
        (s.messages for s in spec.samples),
        params,
        repeat=run.repeat,
        judges=judge_estimates(config, spec, params, run.repeat),
    )
    return full.part(stored)


def guard_run(
    db: Database,
    config: Config,
    run_id: int,
    *,
    max_cost_usd: float | None = None,
    now: datetime | None = None,
    spec: SuiteSpec | None = None,
) -> spending.BudgetCheck:
    """Estimate a run, store the estimate on it, check it against the budget and, when it fits and a
    daily budget is set, reserve it on the day's budget (atomically, so two workers cannot both pass).
    `spec`: the run's suite when the caller read it already (it is not read again)."""
    estimate = estimate_for_run(db, config, run_id, spec=spec)
    with db.session() as session:
        session.execute(update(Run).where(Run.id == run_id).values(estimated_cost_usd=estimate.cost_usd))
        settle_finished(session, also_run=run_id)
        check = spending.check_budget(
            session, config, estimate, max_cost_usd=max_cost_usd, exclude_run=run_id
        )
        per_day = config.budget.max_cost_usd_per_day
        if not check.ok or per_day is None:
            return check
        day = (now or utcnow()).strftime("%Y-%m-%d")
        shared_limits.open_day(session, day)
        outside = _unreserved_today(session, run_id, now)
        if not shared_limits.reserve_budget(session, day, estimate.cost_usd, per_day, outside):
            reserved, spent = shared_limits.day_totals(session, day)
            left = max(per_day - reserved - spent - outside, 0.0)
            return spending.BudgetCheck(
                estimate,
                (
                    f"estimated cost {estimate.cost_text} exceeds today's remaining budget "
                    f"{pricing.format_cost(left)} (of {pricing.format_cost(per_day)} per day, "
                    "with the reservations of running runs)",
                ),
            )
        _hold(session, run_id, day, estimate.cost_usd)
        return check


def settle_finished(session: Session, *, also_run: int | None = None) -> int:
    """Settle the open reservations of runs that ended (done, failed, interrupted, skipped) with their
    real cost, and `also_run`'s (about to run again); returns how many were settled. A run waiting on
    its batch, or queued to collect it, keeps its reservation: the batch is paid for when it ends."""
    stopped = Run.status.in_(SETTLED_STATUSES)
    ended = or_(stopped, Run.id == also_run) if also_run is not None else stopped
    rows = session.execute(
        select(
            BudgetHold.run_id,
            BudgetHold.day,
            BudgetHold.reserved_usd,
            BudgetHold.cost_before_usd,
            Run.cost_usd,
        )
        .join(Run, Run.id == BudgetHold.run_id)
        .where(BudgetHold.open.is_(True), ended)
    ).all()
    settled = 0
    for run_id, day, reserved, before, cost in rows:
        closed = session.execute(
            update(BudgetHold)
            .where(BudgetHold.run_id == run_id, BudgetHold.open.is_(True))
            .values(open=False)
        ).rowcount  # type: ignore[attr-defined]
        if closed:  # another process may have settled it first
            shared_limits.settle_budget(session, day, reserved, max(float(cost or 0.0) - before, 0.0))
            settled += 1
    return settled


def settle_reservations(db: Database) -> int:
    """Settle the reservations of every run that has finished (call it when a run ends)."""
    with db.session() as session:
        return settle_finished(session)


def _unreserved_today(session: Session, run_id: int, now: datetime | None) -> float:
    """Today's spending by runs holding no reservation (older runs, runs started with --yes)."""
    held = select(BudgetHold.run_id)
    since = spending.start_of_day(now)
    finished = select(func.coalesce(func.sum(Run.cost_usd), 0.0)).where(
        Run.finished_at >= since, Run.cost_usd.is_not(None), Run.id != run_id, Run.id.not_in(held)
    )
    running = select(func.coalesce(func.sum(Run.estimated_cost_usd), 0.0)).where(
        Run.status == "running", Run.estimated_cost_usd.is_not(None), Run.id != run_id, Run.id.not_in(held)
    )
    return float(session.scalar(finished) or 0.0) + float(session.scalar(running) or 0.0)


def _hold(session: Session, run_id: int, day: str, amount: float) -> None:
    """Record (or reopen) the run's reservation, remembering its cost so far for the settling."""
    cost = float(session.scalar(select(Run.cost_usd).where(Run.id == run_id)) or 0.0)
    hold = session.get(BudgetHold, run_id)
    if hold is None:
        session.add(BudgetHold(run_id=run_id, day=day, reserved_usd=amount, cost_before_usd=cost, open=True))
    else:
        hold.day, hold.reserved_usd, hold.cost_before_usd, hold.open = day, amount, cost, True
    session.flush()
