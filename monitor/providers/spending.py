"""What was spent: today's spend, the budget check before a run, and stored costs repriced once a
model has a price. The database side of pricing (pricing.py itself imports no tables)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.core import prices
from monitor.core.config import Config
from monitor.providers.pricing import (
    ESTIMATED_PREFIX,
    RunEstimate,
    add_costs,
    call_cost,
    format_cost,
    price_for,
)
from monitor.store.tables import Result, Run


def start_of_day(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def spent_today(session: Session, *, exclude_run: int | None = None, now: datetime | None = None) -> float:
    """Today's (UTC) spend: finished runs' costs plus running runs' estimates."""
    since = start_of_day(now)
    finished = select(func.coalesce(func.sum(Run.cost_usd), 0.0)).where(
        Run.finished_at >= since, Run.cost_usd.is_not(None)
    )
    running = select(func.coalesce(func.sum(Run.estimated_cost_usd), 0.0)).where(
        Run.status == "running", Run.estimated_cost_usd.is_not(None)
    )
    if exclude_run is not None:
        finished = finished.where(Run.id != exclude_run)
        running = running.where(Run.id != exclude_run)
    return float(session.scalar(finished) or 0.0) + float(session.scalar(running) or 0.0)


@dataclass(frozen=True)
class BudgetCheck:
    """Whether an estimate fits the budget; `problems` say why not (empty when it fits)."""

    estimate: RunEstimate
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def explain(self) -> str:
        return "; ".join(self.problems)


def check_budget(
    session: Session,
    config: Config,
    estimate: RunEstimate,
    *,
    max_cost_usd: float | None = None,
    pending_usd: float = 0.0,
    exclude_run: int | None = None,
) -> BudgetCheck:
    """Compare an estimate with the per-run limit (`max_cost_usd` overrides the config's) and the day's
    remaining budget (`pending_usd`: estimates of other runs about to start in the same command)."""
    per_run = max_cost_usd if max_cost_usd is not None else config.budget.max_cost_usd_per_run
    per_day = config.budget.max_cost_usd_per_day
    problems: list[str] = []
    if per_run is not None and estimate.cost_usd > per_run:
        problems.append(
            f"estimated cost {estimate.cost_text} exceeds the per-run limit {format_cost(per_run)}"
        )
    if per_day is not None:
        remaining = per_day - spent_today(session, exclude_run=exclude_run) - pending_usd
        if estimate.cost_usd > remaining:
            problems.append(
                f"estimated cost {estimate.cost_text} exceeds today's remaining budget "
                f"{format_cost(max(remaining, 0.0))} (of {format_cost(per_day)} per day)"
            )
    if problems:
        unpriced = [estimate.model_key] if estimate.price.estimated else []
        unpriced += [
            j.model_key for j in estimate.judges if j.price.estimated and j.model_key not in unpriced
        ]
        if unpriced:
            problems.append(
                f"no price is known for {', '.join(unpriced)}: set one in [pricing] (or `free = true` on a "
                "local provider) to check the budget against its real price"
            )
    return BudgetCheck(estimate, tuple(problems))


def reprice(session: Session, config: Config, run_ids: Iterable[int] | None = None) -> int:
    """Replace upper-bound costs by real ones for models priced since they ran (from the stored tokens).

    A result's judge cost is kept: it is what the stored cost exceeds the call's upper-bound cost by.
    Returns how many results changed; their runs' totals are summed again.
    """
    query = select(Result).where(Result.price_source.like(f"{ESTIMATED_PREFIX}%"))
    if run_ids is not None:
        query = query.where(Result.run_id.in_(list(run_ids)))
    changed_runs: set[int] = set()
    changed = 0
    for result in session.scalars(query):
        run = session.get(Run, result.run_id)
        if run is None:
            continue
        batch = prices.BATCH_MARK in (result.price_source or "")
        price = price_for(config, run.model_key, batch=batch)
        if price.estimated:
            continue
        if result.cost_usd is not None and result.input_tokens is not None:
            usage = (result.input_tokens, result.output_tokens)
            parts = {
                "cached_input_tokens": result.cached_input_tokens,
                "cache_write_tokens": result.cache_write_tokens,
            }
            upper = config.upper_bound(run.model_key)
            if batch:  # an estimated batch price was the bound at the provider type's own discount
                provider = config.providers.get(run.provider)
                upper = prices.discounted(
                    upper, prices.BATCH_DISCOUNTS.get(provider.type if provider else "", 0.5)
                )
            bound = call_cost(upper, *usage, **parts) or 0.0
            real = call_cost(price, *usage, **parts) or 0.0
            result.cost_usd = real + max(result.cost_usd - bound, 0.0)
        result.price_source = price.source
        changed_runs.add(result.run_id)
        changed += 1
    for run_id in changed_runs:
        run = session.get(Run, run_id)
        if run is not None and run.cost_usd is not None:
            session.flush()
            costs = session.scalars(select(Result.cost_usd).where(Result.run_id == run_id)).all()
            run.cost_usd = add_costs(costs)
    return changed
