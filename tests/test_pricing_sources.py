"""Where prices come from: the catalogue by default, [pricing] over it, free local servers, upper bounds
for unknown models, cached and reasoning tokens, and repricing once a price is known."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openai.types.chat import ChatCompletion

from monitor.core.config import Config, ProviderConfig, load_config
from monitor.pipeline.compare.events import compare_models
from monitor.pipeline.compare.runs import run_stats
from monitor.pipeline.deliver.message import ModelRow, _row
from monitor.pipeline.report.write import write_run_report
from monitor.providers import ChatRequest
from monitor.providers.anthropic import AnthropicProvider
from monitor.providers.openai import OpenAIChat
from monitor.providers.pricing import call_cost, describe_cost
from monitor.providers.spending import reprice
from monitor.simulator import SimModel, Simulator
from monitor.store.db import Database
from monitor.store.tables import Result, Run, Suite, utcnow
from tests.pricing_helpers import HOSTED_PROVIDERS

CONFIG = (
    HOSTED_PROVIDERS
    + """
    [providers.groq]
    type = "openai-compatible"
    base_url = "https://api.groq.com/openai/v1"
    api_key_env = "GROQ_API_KEY"

    [providers.local]
    type = "openai-compatible"
    base_url = "http://127.0.0.1:8080/v1"

    [providers.ollama]
    type = "openai-compatible"
    base_url = "http://127.0.0.1:11434/v1"
    free = true

    [pricing."openai:gpt-4.1-mini*"]
    input = 0.1
    output = 0.2
"""
)


@pytest.fixture
def config(write_config: Callable[[str], Path]) -> Config:
    return load_config(write_config(CONFIG))


def test_known_models_are_priced_from_the_catalogue_with_its_snapshot(config: Config) -> None:
    gpt = config.price_for("openai:gpt-4.1")
    assert (gpt.input, gpt.output, gpt.estimated) == (2.0, 8.0, False)
    assert gpt.source.startswith("catalogue (genai-prices ")
    assert "snapshot" in gpt.source
    for key in ("claude:claude-sonnet-4-5", "gemini:gemini-2.5-pro", "groq:llama-3.3-70b-versatile"):
        price = config.price_for(key)
        assert price.source.startswith("catalogue") and price.input > 0 and price.output > 0, key


def test_config_entries_and_globs_override_the_catalogue(config: Config) -> None:
    mini = config.price_for("openai:gpt-4.1-mini")
    assert (mini.input, mini.output, mini.source) == (0.1, 0.2, "config")


def test_a_free_provider_costs_nothing_in_one_line(
    config: Config, write_config: Callable[[str], Path]
) -> None:
    free = config.price_for("ollama:llama3.2")
    assert (free.input, free.output, free.source, free.estimated) == (0, 0, "config", False)
    glob = load_config(write_config(CONFIG + '\n[pricing."local:*"]\ninput = 0\noutput = 0\n'))
    assert glob.price_for("local:gemma-3-270m").source == "config"
    assert call_cost(glob.price_for("local:gemma-3-270m"), 1000, 1000) == 0


def test_a_new_model_of_a_known_line_is_priced_like_the_dearest_of_its_newest_versions(
    config: Config,
) -> None:
    estimate = config.price_for("openai:gpt-9")
    assert estimate.estimated
    assert estimate.source == "estimated: priced like gpt-5.5, the dearest of the newest gpt-# models"
    newest = [config.price_for(f"openai:gpt-5.{minor}") for minor in (3, 4, 5)]
    # At least each of them at its base rate (the estimate takes their highest, long-context tier).
    assert all(estimate.input >= p.input and estimate.output >= p.output for p in newest)
    assert estimate.output < config.price_for("openai:mystery").output  # not o1-pro's outlier price
    assert estimate.cached_input is None  # cached input is charged at the full input rate
    opus = config.price_for("claude:claude-opus-9")
    assert opus.estimated and "claude-opus-#" in opus.source


def test_a_pro_model_is_priced_like_the_pro_line_not_the_plain_one(config: Config) -> None:
    assert config.price_for("openai:gpt-9-pro").output > config.price_for("openai:gpt-9").output


def test_an_unknown_model_of_no_known_line_is_bounded_by_its_providers_dearest_model(config: Config) -> None:
    bound = config.price_for("openai:mystery")
    assert bound.estimated and bound.source.startswith("estimated upper bound")
    known = [
        config.price_for(k) for k in ("openai:gpt-4.1", "openai:gpt-4o", "openai:o3", "openai:gpt-9-pro")
    ]
    assert all(bound.input >= p.input and bound.output >= p.output for p in known)


def test_a_server_the_catalogue_does_not_know_gets_the_bound_of_every_adapter(config: Config) -> None:
    local = config.price_for("local:mystery-model")
    assert local.estimated
    for key in ("openai:gpt-9", "claude:claude-x", "gemini:gemini-9"):
        assert local.output >= config.price_for(key).output


def test_a_config_price_dearer_than_the_catalogue_raises_the_bound(
    write_config: Callable[[str], Path],
) -> None:
    config = load_config(write_config(CONFIG + '\n[pricing."groq:special"]\ninput = 900\noutput = 9000\n'))
    bound = config.price_for("groq:unknown")
    assert (bound.input, bound.output) == (900, 9000)
    assert "groq:special" in bound.source


def test_cached_input_and_cache_writes_cost_their_own_rates(config: Config) -> None:
    claude = config.price_for("claude:claude-sonnet-4-5")
    assert claude.cached_input is not None and claude.cache_write is not None
    cost = call_cost(claude, 1000, 100, cached_input_tokens=600, cache_write_tokens=300)
    expected = 100 * claude.input + 600 * claude.cached_input + 300 * claude.cache_write + 100 * claude.output
    assert cost == pytest.approx(expected / 1e6)
    plain = config.price_for("openai:gpt-4.1-mini")  # no cached rate configured: the input rate
    assert call_cost(plain, 1000, 0, cached_input_tokens=900) == pytest.approx(1000 * 0.1 / 1e6)


def test_describe_cost_names_the_source_and_marks_an_upper_bound() -> None:
    assert describe_cost(0.5, "config") == "$0.5000 (config)"
    assert describe_cost(0.5, "estimated upper bound (the price of x)").startswith("at most $0.5000")
    assert describe_cost(None, "config") == "cost unknown"


def test_openai_usage_details_give_cached_and_reasoning_tokens() -> None:
    chat = OpenAIChat(
        provider="oa",
        base_url="http://127.0.0.1:9/v1",
        api_key=None,
        timeout_s=5,
        token_param="max_completion_tokens",
        is_reasoning=lambda _: False,
    )
    response = ChatCompletion.model_validate(
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-5.1",
            "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "4"}}
            ],
            "usage": {
                "prompt_tokens": 1200,
                "completion_tokens": 300,
                "total_tokens": 1500,
                "prompt_tokens_details": {"cached_tokens": 1024},
                "completion_tokens_details": {"reasoning_tokens": 256},
            },
        }
    )
    completion = chat._completion(response, 12.0)
    assert (completion.cached_input_tokens, completion.reasoning_tokens) == (1024, 256)
    assert (completion.input_tokens, completion.output_tokens) == (1200, 300)


def test_anthropic_usage_gives_cache_reads_and_writes(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key="k", models=[SimModel("claude-sim-a", "anthropic")])
    cfg = ProviderConfig(type="anthropic", base_url=sim.base_url, api_key_env="UNUSED", max_retries=0)
    adapter = AnthropicProvider("claude", cfg, "k")

    async def run() -> Any:
        try:
            messages = [{"role": "user", "content": "What is 2 + 3?"}]
            return await adapter.complete(ChatRequest(model="claude-sim-a", messages=messages))
        finally:
            await adapter.aclose()

    completion = asyncio.run(run())
    assert (completion.cached_input_tokens, completion.cache_write_tokens) == (0, 0)


def _estimated_run(db: Database, config: Config, model_id: str) -> int:
    """A finished run of `openai:<model_id>` whose costs were stored at the upper bound (as runs do)."""
    bound = config.price_for(f"openai:{model_id}")
    with db.session() as session:
        suite = Suite(name="s", version="v1", sample_count=2)
        session.add(suite)
        session.flush()
        run = Run(provider="openai", model_id=model_id, suite_id=suite.id, trigger="new_model", status="done")
        session.add(run)
        session.flush()
        costs = []
        for i in range(2):
            cost = call_cost(bound, 1000, 200, cached_input_tokens=400)
            assert cost is not None
            costs.append(cost + 0.001)  # plus a judge's cost, which repricing keeps
            session.add(
                Result(
                    run_id=run.id,
                    sample_key=f"k{i}",
                    repeat=0,
                    prompt_hash="h",
                    output="x",
                    score=1.0,
                    passed=True,
                    input_tokens=1000,
                    output_tokens=200,
                    cached_input_tokens=400,
                    cost_usd=costs[-1],
                    price_source=bound.source,
                    created_at=utcnow(),
                )
            )
        run.cost_usd = sum(costs)
        run.finished_at = utcnow()
        return run.id


def test_a_run_costed_at_the_bound_shows_it_and_is_repriced_once_a_price_is_known(
    db: Database, config: Config, write_config: Callable[[str], Path]
) -> None:
    run_id = _estimated_run(db, config, "mystery-9")
    with db.session() as session:
        assert reprice(session, config) == 0  # still unknown: the bound stays
        stats = run_stats(session, run_id)
    assert stats.cost_estimated and stats.cost_source is not None
    row: ModelRow = _row("candidate", stats)
    assert row.cost.startswith("at most $") and row.price_source.startswith("estimated upper bound")

    priced = load_config(write_config(CONFIG + '\n[pricing."openai:mystery-9"]\ninput = 1\noutput = 4\n'))
    with db.session() as session:
        assert reprice(session, priced) == 2
    with db.session() as session:
        stats = run_stats(session, run_id)
        run = session.get(Run, run_id)
        assert run is not None
        real = call_cost(priced.price_for("openai:mystery-9"), 1000, 200, cached_input_tokens=400)
        assert real is not None
        assert run.cost_usd == pytest.approx(2 * (real + 0.001))
    assert (stats.cost_source, stats.cost_estimated) == ("config", False)
    assert _row("candidate", stats).cost.startswith("$")


def test_compare_names_the_sources_and_reads_no_cost_change_into_a_bound(
    db: Database, config: Config, write_config: Callable[[str], Path]
) -> None:
    cand = _estimated_run(db, config, "mystery-9")
    with db.session() as session:
        base = session.get(Run, cand)
        assert base is not None
        twin = Run(
            provider="openai",
            model_id="gpt-4.1",
            suite_id=base.suite_id,
            trigger="baseline",
            status="done",
            finished_at=utcnow(),
            cost_usd=0.002,
        )
        session.add(twin)
        session.flush()
        for i in range(2):
            session.add(
                Result(
                    run_id=twin.id,
                    sample_key=f"k{i}",
                    repeat=0,
                    prompt_hash="h",
                    output="x",
                    score=1.0,
                    passed=True,
                    input_tokens=10,
                    output_tokens=2,
                    cost_usd=0.001,
                    price_source=config.price_for("openai:gpt-4.1").source,
                    created_at=utcnow(),
                )
            )
    with db.session() as session:
        result = compare_models(session, config, "openai:mystery-9", "openai:gpt-4.1")
    (suite,) = result.suites
    assert suite.candidate.cost_estimated
    assert suite.baseline is not None and (suite.baseline.cost_source or "").startswith("catalogue")
    # A bound says nothing about the real change in cost.
    assert result.cost_change_pct is None
    assert "cost not priced yet (an estimate)" in result.headline


def test_a_run_report_reprices_and_names_the_source(
    db: Database, config: Config, write_config: Callable[[str], Path]
) -> None:
    run_id = _estimated_run(db, config, "mystery-9")
    html = write_run_report(db, config, run_id).read_text("utf-8")
    assert "at most $" in html and "estimated upper bound" in html
    priced = load_config(write_config(CONFIG + '\n[pricing."openai:mystery-9"]\ninput = 1\noutput = 4\n'))
    html = write_run_report(db, priced, run_id).read_text("utf-8")
    assert "prices: config" in html and "at most $" not in html
