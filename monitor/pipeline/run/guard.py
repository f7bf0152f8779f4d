"""The cost guard: estimate what is left of a run, store the estimate, check it against the budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from monitor.core.config import Config
from monitor.core.errors import MonitorError
from monitor.pipeline.run.rebuild import resolve_suite_spec
from monitor.providers import pricing
from monitor.store.db import Database
from monitor.store.tables import Result, Run

if TYPE_CHECKING:
    from monitor.evals.loader import SuiteSpec


def remaining_messages(db: Database, config: Config, run_id: int) -> tuple[SuiteSpec, Run, int]:
    """The run's spec, the run, and how many of its calls are not stored yet."""
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise MonitorError(f"run {run_id} does not exist")
        stored = session.scalar(
            select(func.count(Result.id)).where(Result.run_id == run_id, Result.error_kind.is_(None))
        )
        session.expunge(run.suite)
        session.expunge(run)
    return resolve_suite_spec(db, config, run.suite), run, int(stored or 0)


def estimate_for_run(db: Database, config: Config, run_id: int) -> pricing.RunEstimate:
    """The cost estimate of what is left of a run (all of it for a new one)."""
    spec, run, stored = remaining_messages(db, config, run_id)
    params = {**(spec.params or {}), **(run.params or {})}
    full = pricing.estimate_run(
        config, run.model_key, (s.messages for s in spec.samples), params, repeat=run.repeat
    )
    if not stored or not full.calls:
        return full
    share = max(0.0, 1 - stored / full.calls)
    return pricing.RunEstimate(
        full.model_key,
        full.calls - stored,
        round(full.input_tokens * share),
        round(full.output_tokens * share),
        full.cost_usd * share,
        full.price,
    )


def guard_run(
    db: Database, config: Config, run_id: int, *, max_cost_usd: float | None = None
) -> pricing.BudgetCheck:
    """Estimate a run, store the estimate on it, and check it against the budget."""
    estimate = estimate_for_run(db, config, run_id)
    with db.session() as session:
        session.execute(update(Run).where(Run.id == run_id).values(estimated_cost_usd=estimate.cost_usd))
        return pricing.check_budget(session, config, estimate, max_cost_usd=max_cost_usd, exclude_run=run_id)
