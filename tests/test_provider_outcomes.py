"""Answer variants and error variants from the simulator, through the real adapters and SDKs."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pytest

from monitor.core.config import ProviderConfig
from monitor.providers import (
    ChatRequest,
    Completion,
    Overloaded,
    Provider,
    ProviderError,
    QuotaExhausted,
    RateLimited,
)
from monitor.providers.anthropic import AnthropicProvider
from monitor.providers.gemini import GeminiProvider
from monitor.providers.openai import OpenAIProvider
from monitor.providers.retry import RetryPolicy
from monitor.simulator import Fault, SimModel, Simulator

KEY = "sim-outcomes-key-1234"
MODELS = [
    SimModel("gpt-sim-base", "openai"),
    SimModel("claude-sim-a", "anthropic"),
    SimModel("gemini-sim-flash", "gemini"),
]
PROMPT = [{"role": "user", "content": "What is 2 + 3?"}]


def config(sim: Simulator, type_: str) -> ProviderConfig:
    base_url = f"{sim.base_url}/v1" if type_.startswith("openai") else sim.base_url
    return ProviderConfig(type=type_, base_url=base_url, api_key_env="UNUSED", timeout_s=30.0, max_retries=0)


def adapter(sim: Simulator, type_: str) -> Any:
    cfg = config(sim, type_)
    if type_ == "anthropic":
        return AnthropicProvider("claude", cfg, KEY)
    if type_ == "gemini":
        return GeminiProvider("gemini", cfg, KEY)
    return OpenAIProvider("oa", cfg, KEY)


MODEL_OF = {"openai": "gpt-sim-base", "anthropic": "claude-sim-a", "gemini": "gemini-sim-flash"}


def ask(p: Provider, model: str) -> Completion:
    async def run() -> Completion:
        try:
            return await p.complete(ChatRequest(model=model, messages=PROMPT, max_tokens=200))
        finally:
            await p.aclose()

    return asyncio.run(run())


def fails(p: Provider, model: str) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        ask(p, model)
    return info.value


@pytest.mark.parametrize(
    ("type_", "kind", "outcome", "finish_reason"),
    [
        ("openai", "refusal", "refusal", "stop"),
        ("openai", "content_filter", "content_filter", "content_filter"),
        ("anthropic", "refusal", "refusal", "refusal"),
        ("anthropic", "pause_turn", "truncated", "pause_turn"),
        ("anthropic", "context_window", "truncated", "model_context_window_exceeded"),
        ("gemini", "content_filter", "content_filter", "content_filter"),
    ],
)
def test_each_answer_variant_is_its_own_outcome(
    make_simulator: Callable[..., Simulator], type_: str, kind: str, outcome: str, finish_reason: str
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, faults=[Fault(kind, provider=type_, count=1)])
    completion = ask(adapter(sim, type_), MODEL_OF[type_])
    assert completion.outcome == outcome
    assert completion.finish_reason == finish_reason
    assert ask(adapter(sim, type_), MODEL_OF[type_]).outcome == "stop"


def test_openai_refusal_text_is_kept_apart_from_the_empty_content(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, faults=[Fault("refusal", provider="openai")])
    completion = ask(adapter(sim, "openai"), "gpt-sim-base")
    assert completion.text == ""
    assert completion.refusal is not None and "can't help" in completion.refusal


def test_anthropic_refusal_keeps_the_stop_details_explanation(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, faults=[Fault("refusal", provider="anthropic")])
    completion = ask(adapter(sim, "anthropic"), "claude-sim-a")
    assert completion.refusal == "This request was declined under the usage policy."


def test_anthropic_spend_limit_is_a_quota_error_not_a_rate_limit(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, faults=[Fault("spend_limit", provider="anthropic")])
    error = fails(adapter(sim, "anthropic"), "claude-sim-a")
    assert isinstance(error, QuotaExhausted) and not error.retryable
    assert error.status == 429


def test_openai_insufficient_quota_429_is_a_quota_error(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, faults=[Fault("spend_limit", provider="openai")])
    assert isinstance(fails(adapter(sim, "openai"), "gpt-sim-base"), QuotaExhausted)


def test_gemini_daily_quota_is_a_quota_error_and_per_minute_a_rate_limit(
    make_simulator: Callable[..., Simulator],
) -> None:
    daily = make_simulator(api_key=KEY, models=MODELS, faults=[Fault("quota_daily", provider="gemini")])
    error = fails(adapter(daily, "gemini"), "gemini-sim-flash")
    assert isinstance(error, QuotaExhausted) and "daily quota" in str(error)
    minute = make_simulator(
        api_key=KEY, models=MODELS, faults=[Fault("rate_limit", provider="gemini", retry_after=0.2)]
    )
    error = fails(adapter(minute, "gemini"), "gemini-sim-flash")
    assert isinstance(error, RateLimited) and error.retry_after == pytest.approx(0.2)


def test_openai_per_day_limit_reads_the_go_duration_and_is_not_retried(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, faults=[Fault("quota_daily", provider="openai")])
    error = fails(adapter(sim, "openai"), "gpt-sim-base")
    assert isinstance(error, RateLimited)
    assert error.retry_after == pytest.approx(360.0)
    # Longer than the retry-after cap: the run's retry policy stops at once instead of 8 s backoffs.
    assert RetryPolicy().delay(0, error) == math.inf


def test_llama_cpp_loading_model_is_a_distinct_retryable_overload(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, faults=[Fault("loading", provider="openai", count=1)])
    p = adapter(sim, "openai-compatible")
    error = fails(p, "gpt-sim-base")
    assert isinstance(error, Overloaded) and error.retryable and error.loading
    assert "loading its model" in str(error)
    assert ask(adapter(sim, "openai-compatible"), "gpt-sim-base").text


def test_a_plain_overload_is_not_loading(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, faults=[Fault("overloaded", provider="openai")])
    error = fails(adapter(sim, "openai"), "gpt-sim-base")
    assert isinstance(error, Overloaded) and not error.loading


def test_anthropic_429_headers_are_whole_seconds_and_parsed(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(
        api_key=KEY, models=MODELS, faults=[Fault("rate_limit", provider="anthropic", retry_after=0.05)]
    )
    error = fails(adapter(sim, "anthropic"), "claude-sim-a")
    # retry-after-ms wins over the whole-second retry-after.
    assert isinstance(error, RateLimited) and error.retry_after == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("finish_reason", "outcome"),
    [
        (None, "stop"),
        ("end_turn", "stop"),
        ("STOP", "stop"),
        ("max_tokens", "length"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("tool_use", "tool_calls"),
        ("model_context_window_exceeded", "truncated"),
        ("something_new", "other"),
    ],
)
def test_raw_finish_reasons_map_to_one_outcome(finish_reason: str | None, outcome: str) -> None:
    assert Completion("x", finish_reason, 1, 1, 1.0).outcome == outcome
    assert Completion("", finish_reason, 1, 1, 1.0, refusal="no").outcome == "refusal"
