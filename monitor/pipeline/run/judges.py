"""The judges a suite's graders call: one per judge model, each with its provider, pricing and limiter."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from monitor.core.config import Config
from monitor.core.errors import MonitorError
from monitor.core.prices import PriceConfig
from monitor.providers import pricing
from monitor.providers.base import Provider
from monitor.providers.limits import limiter_for
from monitor.store.db import Database

if TYPE_CHECKING:
    from monitor.evals.loader import SuiteSpec


def _pricer(price: PriceConfig | None) -> Callable[[int, int], float | None]:
    def cost(input_tokens: int, output_tokens: int) -> float | None:
        return pricing.call_cost(price, input_tokens, output_tokens)

    return cost


def make_judges(db: Database, config: Config, spec: SuiteSpec) -> tuple[Any, dict[str, Any], list[Provider]]:
    """The suite's default judge, judges for graders naming their own model, and their providers."""
    if not spec.needs_judge:
        return None, {}, []
    from monitor.evals.judge import Judge
    from monitor.providers.registry import get_provider

    default_key = spec.judge_model or config.judge.model
    keys = set(spec.judge_models) | ({default_key} if default_key else set())
    judges: dict[str, Any] = {}
    providers: list[Provider] = []
    for key in sorted(keys):
        name, _, model_id = key.partition(":")
        if name not in config.providers:
            raise MonitorError(f"judge model {key} names provider '{name}', not in [providers]")
        judge_provider = get_provider(name, config.providers[name])
        providers.append(judge_provider)
        judges[key] = Judge(
            judge_provider,
            model_id,
            key,
            db,
            _pricer(config.price_for(key)),
            limiter=limiter_for(config.providers[name]),
        )
    return (judges.get(default_key) if default_key else None), judges, providers
