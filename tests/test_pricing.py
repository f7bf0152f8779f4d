"""Pricing: call costs, unknown prices at an upper bound, run estimates and the budget check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from monitor.core.config import Config, load_config
from monitor.providers.pricing import (
    DEFAULT_OUTPUT_TOKENS,
    add_costs,
    call_cost,
    estimate_run,
    format_cost,
)
from monitor.providers.spending import check_budget, spent_today
from monitor.store.db import Database
from monitor.store.tables import Run, Suite, utcnow

CONFIG = """
    [providers.sim]
    type = "openai-compatible"
    base_url = "http://127.0.0.1:9/v1"

    [pricing."sim:gpt-sim-*"]
    input = 2.0
    output = 8.0

    [budget]
    max_cost_usd_per_run = 0.01
    max_cost_usd_per_day = 0.05
"""

MESSAGES = [[{"role": "user", "content": "x" * 400}]] * 10


def _config(write_config: Callable[[str], Path]) -> Config:
    return load_config(write_config(CONFIG))


def test_call_cost_uses_usd_per_million_tokens(write_config: Callable[[str], Path]) -> None:
    price = _config(write_config).price_for("sim:gpt-sim-base")
    assert call_cost(price, 1_000, 500) == (1_000 * 2.0 + 500 * 8.0) / 1_000_000


def test_an_unpriced_model_is_priced_at_an_upper_bound_never_zero(
    write_config: Callable[[str], Path],
) -> None:
    config = _config(write_config)
    price = config.price_for("sim:other")
    assert price.estimated and price.source.startswith("estimated upper bound")
    assert price.input >= 2.0 and price.output >= 8.0
    assert call_cost(None, 1_000, 500) is None
    assert add_costs([0.1, None, 0.2]) is None
    assert format_cost(None) == "unknown"
    assert format_cost(0.0) == "$0.0000"


def test_estimate_counts_chars_over_four_and_max_tokens(write_config: Callable[[str], Path]) -> None:
    config = _config(write_config)
    estimate = estimate_run(config, "sim:gpt-sim-base", MESSAGES, {"max_tokens": 50}, repeat=2)
    assert estimate.calls == 20
    assert estimate.input_tokens == 20 * (100 + 4)
    assert estimate.output_tokens == 20 * 50
    assert estimate.cost_usd is not None and abs(estimate.cost_usd - (2080 * 2 + 1000 * 8) / 1e6) < 1e-12


def test_estimate_without_max_tokens_uses_the_documented_default(write_config: Callable[[str], Path]) -> None:
    estimate = estimate_run(_config(write_config), "sim:gpt-sim-base", MESSAGES, {})
    assert estimate.output_tokens == 10 * DEFAULT_OUTPUT_TOKENS


def test_budget_check_flags_an_estimate_over_the_per_run_limit(
    write_config: Callable[[str], Path], db: Database
) -> None:
    config = _config(write_config)
    estimate = estimate_run(config, "sim:gpt-sim-base", MESSAGES * 100, {"max_tokens": 50})
    with db.session() as session:
        check = check_budget(session, config, estimate)
    assert not check.ok
    assert "per-run limit $0.0100" in check.explain()


def test_budget_check_counts_what_was_spent_today(write_config: Callable[[str], Path], db: Database) -> None:
    config = _config(write_config)
    estimate = estimate_run(config, "sim:gpt-sim-base", MESSAGES, {"max_tokens": 50})
    with db.session() as session:
        suite = Suite(name="s", version="v", sample_count=1)
        session.add(suite)
        session.flush()
        for cost, when in ((0.045, utcnow()), (5.0, utcnow() - timedelta(days=2))):
            session.add(
                Run(
                    provider="sim",
                    model_id="m",
                    suite_id=suite.id,
                    trigger="manual",
                    status="done",
                    cost_usd=cost,
                    finished_at=when,
                )
            )
    with db.session() as session:
        assert abs(spent_today(session) - 0.045) < 1e-9
        check = check_budget(session, config, estimate)
    assert not check.ok
    assert "today's remaining budget" in check.explain()


def test_an_unpriced_model_over_budget_says_its_estimate_is_an_upper_bound(
    write_config: Callable[[str], Path], db: Database
) -> None:
    config = _config(write_config)
    estimate = estimate_run(config, "sim:no-price", MESSAGES, {})
    with db.session() as session:
        check = check_budget(session, config, estimate)
    assert estimate.cost_usd > 0 and estimate.price.estimated
    assert not check.ok
    assert "at most $" in check.explain() and "estimated upper bound" in check.explain()
    assert "set one in [pricing]" in check.explain()
