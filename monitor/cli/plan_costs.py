"""The costs of an `eval --dry-run` plan: the model's, the judges' and their total, each unknown or known."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from monitor.providers.pricing import UNKNOWN, RunEstimate, format_cost


def known(cost: float, estimated: bool) -> float | None:
    """The cost, or None when a price in it is unknown (it is then a bound, never a 0 or a cost)."""
    return None if estimated else cost


def cost_fields(estimate: RunEstimate) -> dict[str, Any]:
    """One run's costs for `--json`: the model's (`estimated_cost_usd`, `cost_bound_usd`), the judges'
    (`judge_cost_usd`, its bound, calls and price sources) and the total the cost guard compares."""
    return {
        "estimated_cost_usd": known(estimate.model_cost_usd, estimate.price.estimated),
        "cost_bound_usd": estimate.model_cost_usd,
        "judge_calls": estimate.judge_calls,
        "judge_cost_usd": known(estimate.judge_cost_usd, estimate.judge_estimated),
        "judge_cost_bound_usd": estimate.judge_cost_usd,
        "judge_price_sources": {j.model_key: j.price.source for j in estimate.judges},
        "total_cost_usd": known(estimate.cost_usd, estimate.estimated),
        "total_cost_bound_usd": estimate.cost_usd,
    }


def plan_cost_fields(estimates: Sequence[RunEstimate]) -> dict[str, Any]:
    """The plan's costs for `--json`, each None as soon as one run's is unknown."""
    model = sum(e.model_cost_usd for e in estimates)
    judge = sum(e.judge_cost_usd for e in estimates)
    return {
        "estimated_cost_usd": known(model, any(e.price.estimated for e in estimates)),
        "cost_bound_usd": model,
        "judge_calls": sum(e.judge_calls for e in estimates),
        "judge_cost_usd": known(judge, any(e.judge_estimated for e in estimates)),
        "judge_cost_bound_usd": judge,
        "total_cost_usd": known(model + judge, any(e.estimated for e in estimates)),
        "total_cost_bound_usd": model + judge,
    }


def cost_cell(cost: float, estimated: bool) -> str:
    """'$0.0123', or 'unknown (≤$1.20)' when a price in it is unknown (the bound in brackets)."""
    return f"{UNKNOWN} (≤{format_cost(cost)})" if estimated else format_cost(cost)


def judge_sources(estimates: Iterable[RunEstimate]) -> list[tuple[str, str]]:
    """Each judge model of the plan once, with where its price came from."""
    return list(dict.fromkeys((j.model_key, j.price.source) for e in estimates for j in e.judges))


def summary_line(estimates: Sequence[RunEstimate]) -> str:
    """'2 run(s), 24 call(s), estimated cost $0.01', with the judges' calls and share when there are."""
    fields = plan_cost_fields(estimates)
    calls = sum(e.calls for e in estimates)
    total = fields["total_cost_usd"]
    bound = fields["total_cost_bound_usd"]
    total_text = format_cost(total) if total is not None else f"{UNKNOWN} (at most {format_cost(bound)})"
    line = f"{len(estimates)} run(s), {calls} call(s)"
    if not fields["judge_calls"]:
        return f"{line}, estimated cost {total_text}"
    model = cost_cell(fields["cost_bound_usd"], fields["estimated_cost_usd"] is None)
    judge = cost_cell(fields["judge_cost_bound_usd"], fields["judge_cost_usd"] is None)
    return (
        f"{line} and {fields['judge_calls']} judge call(s), estimated cost {total_text} "
        f"(model {model} + judge {judge})"
    )
