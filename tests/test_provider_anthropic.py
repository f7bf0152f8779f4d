"""The Anthropic adapter through the real anthropic SDK against the simulator: pages, chat, typed errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.core.config import ProviderConfig
from monitor.providers import (
    AuthError,
    ChatRequest,
    ProviderError,
    RateLimited,
)
from monitor.providers.anthropic import AnthropicProvider
from monitor.simulator import Fault, SimModel, Simulator
from tests.provider_faults import CHAT_FAULTS

KEY = "anthropic-sim-key-42"


def claude(model_id: str, day: int, **kw: Any) -> SimModel:
    return SimModel(model_id, "anthropic", created=datetime(2026, 1, day, tzinfo=UTC), **kw)


MODELS = [
    claude("claude-sim-a", 1),
    claude("claude-sim-b", 2),
    claude("claude-sim-c", 3, lifecycle="deprecated"),
    claude("claude-sim-d", 4),
    claude("claude-sim-e", 5),
    claude("claude-sim-old", 6, lifecycle="retired"),
]


def provider(sim: Simulator, *, page_size: int = 100, **cfg: Any) -> AnthropicProvider:
    settings: dict[str, Any] = {"timeout_s": 30.0, "max_retries": 0, **cfg}
    config = ProviderConfig(type="anthropic", base_url=sim.base_url, api_key_env="UNUSED", **settings)
    return AnthropicProvider("claude", config, KEY, page_size=page_size)


def ask(p: AnthropicProvider, model: str = "claude-sim-a", prompt: str = "What is 2 + 3?", **kw: Any) -> Any:
    messages = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": prompt}]

    async def run() -> Any:
        try:
            return await p.complete(ChatRequest(model=model, messages=messages, **kw))
        finally:
            await p.aclose()

    return asyncio.run(run())


def test_lists_every_page_newest_first_and_skips_retired_models(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    infos = provider(sim, page_size=2).list_models()
    assert [i.id for i in infos] == [
        "claude-sim-e",
        "claude-sim-d",
        "claude-sim-c",
        "claude-sim-b",
        "claude-sim-a",
    ]
    assert sim.stats()["by_endpoint"]["anthropic.models"] == 3
    deprecated = infos[2]
    assert deprecated.raw["lifecycle"] == "deprecated" and deprecated.raw["deprecated_at"]
    assert deprecated.created == datetime(2026, 1, 3, tzinfo=UTC)
    assert deprecated.display_name


def test_every_listed_model_is_a_chat_model(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    p = provider(sim)
    assert all(p.is_chat_model(i) for i in p.list_models())


def test_completes_a_chat_joining_text_with_stop_reason_and_usage(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    completion = ask(provider(sim), max_tokens=300)
    assert completion.text
    assert completion.finish_reason == "end_turn"
    assert completion.input_tokens and completion.output_tokens
    assert completion.resolved_model == "claude-sim-a"
    assert completion.request_id and completion.latency_ms > 0


def test_temperature_goes_in_the_body_under_the_older_api_version(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    p = provider(sim)
    sent = p.request_kwargs(
        ChatRequest(model="claude-sim-a", messages=[{"role": "user", "content": "hi"}], temperature=0.0)
    )
    assert sent["extra_body"] == {"temperature": 0.0}
    assert sent["extra_headers"] == {"anthropic-version": "2023-06-01"}
    assert sent["max_tokens"] == 1024
    assert ask(p, temperature=0.0).text


def test_system_messages_are_lifted_into_the_system_field(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    sent = provider(sim).request_kwargs(
        ChatRequest(
            model="claude-sim-a",
            messages=[{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"}],
            max_tokens=50,
        )
    )
    assert sent["system"] == "Be terse."
    assert sent["messages"] == [{"role": "user", "content": "hi"}]
    assert "extra_headers" not in sent and "extra_body" not in sent


def test_small_max_tokens_ends_with_max_tokens(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    answer = ask(provider(sim), prompt="Tell me about the sea.", max_tokens=3)
    assert answer.finish_reason == "max_tokens" and answer.output_tokens <= 3


@pytest.mark.parametrize(("kind", "error"), CHAT_FAULTS)
def test_each_chat_fault_becomes_its_typed_error(
    make_simulator: Callable[..., Simulator], kind: str, error: type[ProviderError]
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, faults=[Fault(kind=kind, retry_after=0.3, hang_s=3)])
    with pytest.raises(error) as caught:
        ask(provider(sim, timeout_s=0.5 if kind == "timeout" else 30.0))
    if kind == "rate_limit":
        assert caught.value.retry_after == pytest.approx(0.3)
    if kind == "overloaded":
        assert caught.value.status == 529


def test_auth_error_text_and_logs_never_contain_the_key(
    make_simulator: Callable[..., Simulator], caplog: pytest.LogCaptureFixture
) -> None:
    sim = make_simulator(api_key="the-right-key", models=MODELS)
    p = provider(sim)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as listed:
        p.list_models()
    with pytest.raises(AuthError) as chatted:
        ask(p)
    for exc in (listed.value, chatted.value):
        assert KEY not in str(exc)
        assert "[redacted]" in str(exc)
    assert all(KEY not in record.getMessage() for record in caplog.records)


def test_a_failure_on_a_later_page_fails_the_whole_list(make_simulator: Callable[..., Simulator]) -> None:
    # One request per minute: the first page is served, the second gets a 429 with a long retry-after.
    sim = make_simulator(api_key=KEY, models=MODELS, rpm_limit=1)
    with pytest.raises(RateLimited):
        provider(sim, page_size=2, max_retries=3).list_models()
    assert sim.stats()["by_endpoint"]["anthropic.models"] == 2


def test_openai_named_params_are_sent_in_messages_terms(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    p = provider(sim)
    request = ChatRequest(
        model="claude-sim-a",
        messages=[{"role": "user", "content": "hi"}],
        extra={"stop": "END", "reasoning_effort": "minimal", "top_p": 0.9},
    )
    sent = p.request_kwargs(request)
    assert sent["extra_body"] == {"stop_sequences": ["END"], "top_p": 0.9}
    assert sent["extra_headers"] == {"anthropic-version": "2023-06-01"}
    high = p.request_kwargs(ChatRequest(model="m", messages=[], extra={"reasoning_effort": "high"}))
    assert high["extra_body"] == {"output_config": {"effort": "high"}}
    assert ask(p, max_tokens=100, extra={"stop": "END", "top_p": 0.9}).text
