"""What a call or a run costs in USD from `[pricing]`; an unknown price is None ("cost unknown"), never 0."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.core.config import Config, PriceConfig
from monitor.store.tables import Run

CHARS_PER_TOKEN = 4
# Output tokens assumed per call when the suite's params set no max_tokens.
DEFAULT_OUTPUT_TOKENS = 256
UNKNOWN = "unknown"


def call_cost(price: PriceConfig | None, input_tokens: int | None, output_tokens: int | None) -> float | None:
    """USD for one call; None when the price or the usage is unknown."""
    if price is None or input_tokens is None or output_tokens is None:
        return None
    return (input_tokens * price.input + output_tokens * price.output) / 1_000_000


def add_costs(costs: Iterable[float | None]) -> float | None:
    """The sum, or None as soon as one part is unknown."""
    total = 0.0
    for cost in costs:
        if cost is None:
            return None
        total += cost
    return total


def format_cost(cost: float | None) -> str:
    """'$0.0123', or 'unknown' for a cost that cannot be computed."""
    if cost is None:
        return UNKNOWN
    return f"${cost:.4f}" if cost < 10 else f"${cost:,.2f}"


def estimate_tokens(messages: Sequence[dict[str, Any]]) -> int:
    """Input tokens of rendered messages, approximated as characters / 4 (plus a few per message)."""
    chars = sum(len(str(m.get("content", ""))) for m in messages)
    return chars // CHARS_PER_TOKEN + 4 * len(messages)


def output_tokens_for(params: dict[str, Any]) -> int:
    max_tokens = params.get("max_tokens")
    return int(max_tokens) if isinstance(max_tokens, int) and max_tokens > 0 else DEFAULT_OUTPUT_TOKENS


@dataclass(frozen=True)
class RunEstimate:
    """The expected size and cost of a run (or of the part of it still to do)."""

    model_key: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None

    @property
    def cost_text(self) -> str:
        return format_cost(self.cost_usd)


def estimate_run(
    config: Config,
    model_key: str,
    messages: Iterable[Sequence[dict[str, Any]]],
    params: dict[str, Any],
    *,
    repeat: int = 1,
) -> RunEstimate:
    """Estimate calls × (chars/4 input + max_tokens output) at the configured price."""
    per_call_output = output_tokens_for(params)
    calls = 0
    input_tokens = 0
    for sample_messages in messages:
        calls += repeat
        input_tokens += estimate_tokens(sample_messages) * repeat
    output_tokens = per_call_output * calls
    cost = call_cost(config.price_for(model_key), input_tokens, output_tokens)
    return RunEstimate(model_key, calls, input_tokens, output_tokens, cost)


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
    cost_unknown_with_budget: bool

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
    if estimate.cost_usd is None:
        if per_run is not None or per_day is not None:
            problems.append(
                f"cost unknown: no [pricing] entry matches {estimate.model_key}, so the budget cannot be "
                f"checked ({estimate.calls} calls, ~{estimate.input_tokens} input and "
                f"~{estimate.output_tokens} output tokens)"
            )
        return BudgetCheck(estimate, tuple(problems), bool(problems))
    if per_run is not None and estimate.cost_usd > per_run:
        problems.append(
            f"estimated cost {format_cost(estimate.cost_usd)} exceeds the per-run limit "
            f"{format_cost(per_run)}"
        )
    if per_day is not None:
        remaining = per_day - spent_today(session, exclude_run=exclude_run) - pending_usd
        if estimate.cost_usd > remaining:
            problems.append(
                f"estimated cost {format_cost(estimate.cost_usd)} exceeds today's remaining budget "
                f"{format_cost(max(remaining, 0.0))} (of {format_cost(per_day)} per day)"
            )
    return BudgetCheck(estimate, tuple(problems), False)
