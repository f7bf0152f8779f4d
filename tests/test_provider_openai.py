"""The OpenAI adapter through the real openai SDK against the simulator: list, filter, chat, typed errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from monitor.core.config import ProviderConfig
from monitor.providers import (
    AuthError,
    BadResponse,
    ChatRequest,
    ModelInfo,
    ModelNotFound,
    ProviderError,
    RateLimited,
    get_provider,
)
from monitor.providers.openai import (
    OpenAIProvider,
    is_compatible_chat_model,
    is_openai_chat_model,
    is_reasoning_model,
)
from monitor.simulator import Fault, SimModel, Simulator
from tests.provider_faults import CHAT_FAULTS

KEY = "sk-simtest-0123456789abcdef"
KEY_ENV = "MM_TEST_OPENAI_KEY"


def provider(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, *, type_: str = "openai", **cfg: Any
) -> OpenAIProvider:
    monkeypatch.setenv(KEY_ENV, KEY)
    settings: dict[str, Any] = {"timeout_s": 30.0, "max_retries": 0, **cfg}
    config = ProviderConfig(type=type_, base_url=f"{sim.base_url}/v1", api_key_env=KEY_ENV, **settings)
    built = get_provider("oa", config)
    assert isinstance(built, OpenAIProvider)
    return built


def ask(p: OpenAIProvider, model: str = "gpt-sim-base", **kw: Any) -> Any:
    request = ChatRequest(model=model, messages=[{"role": "user", "content": "What is 2 + 3?"}], **kw)

    async def run() -> Any:
        try:
            return await p.complete(request)
        finally:
            await p.aclose()

    return asyncio.run(run())


def chat_requests(sim: Simulator) -> int:
    return int(sim.stats()["by_endpoint"].get("openai.chat", 0))


def test_lists_every_model_with_created_time_and_owner(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY)
    infos = {info.id: info for info in provider(sim, monkeypatch).list_models()}
    assert {"gpt-sim-base", "o9-sim", "text-embedding-sim-3", "whisper-sim-1"} <= set(infos)
    assert infos["gpt-sim-base"].created is not None and infos["gpt-sim-base"].created.year == 2026
    assert infos["gpt-sim-base"].owned_by == "system"
    assert infos["gpt-sim-base"].raw["id"] == "gpt-sim-base"


def test_default_rule_keeps_chat_models_and_drops_other_modalities(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY)
    p = provider(sim, monkeypatch)
    kept = sorted(info.id for info in p.list_models() if p.is_chat_model(info))
    assert kept == ["gpt-sim-base", "gpt-sim-mini", "o9-sim"]


@pytest.mark.parametrize(
    ("model_id", "chat"),
    [
        ("gpt-4.1", True),
        ("gpt-5.1-2025-11-13", True),
        ("o3-mini", True),
        ("chatgpt-4o-latest", True),
        ("ft:gpt-4.1-mini:acme::AbC123", True),
        ("text-embedding-3-large", False),
        ("gpt-4o-mini-tts", False),
        ("gpt-4o-transcribe", False),
        ("gpt-realtime", False),
        ("gpt-4o-audio-preview", False),
        ("gpt-image-1", False),
        ("gpt-4o-search-preview", True),
        ("gpt-4o-mini-search-preview-2025-03-11", True),
        ("gpt-5-search-api", False),
        ("gpt-3.5-turbo-instruct", False),
        ("o1-pro", False),
        ("gpt-5-pro-2025-10-06", False),
        ("gpt-5-codex", False),
        ("omni-moderation-latest", False),
        ("dall-e-3", False),
        ("davinci-002", False),
    ],
)
def test_openai_chat_rule_follows_the_documented_id_patterns(model_id: str, chat: bool) -> None:
    assert is_openai_chat_model(model_id) is chat


@pytest.mark.parametrize(
    ("model_id", "reasoning"),
    [
        ("o1", True),
        ("o3-mini", True),
        ("o4-mini-2025-04-16", True),
        ("gpt-5", True),
        ("gpt-5.1", True),
        ("gpt-6-astra", True),
        ("gpt-10", True),
        ("gpt-4.1", False),
        ("gpt-4o", False),
        ("omni-moderation-latest", False),
        ("chatgpt-4o-latest", False),
        ("gpt-5-chat-latest", False),
        ("gpt-5.1-chat-latest", False),
    ],
)
def test_reasoning_models_are_recognised_by_id(model_id: str, reasoning: bool) -> None:
    assert is_reasoning_model(model_id) is reasoning


def test_completes_a_chat_with_usage_snapshot_fingerprint_and_request_id(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY)
    completion = ask(provider(sim, monkeypatch), max_tokens=200, temperature=0, seed=7)
    assert completion.text
    assert completion.finish_reason == "stop"
    assert completion.input_tokens and completion.output_tokens
    assert completion.latency_ms > 0
    assert completion.resolved_model == "gpt-sim-base-2026-01-01"
    assert completion.system_fingerprint and completion.system_fingerprint.startswith("fp_")
    assert completion.request_id and completion.request_id.startswith("req_")


def test_reasoning_model_gets_max_completion_tokens_and_no_temperature(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY)
    p = provider(sim, monkeypatch)
    request = ChatRequest(
        model="o9-sim", messages=[{"role": "user", "content": "hi"}], max_tokens=64, temperature=0.0
    )
    sent = p.request_kwargs(request)
    assert sent["max_completion_tokens"] == 64
    assert "max_tokens" not in sent and "temperature" not in sent
    completion = ask(p, "o9-sim", max_tokens=400, temperature=0.0)
    assert completion.text
    assert chat_requests(sim) == 1


def test_chat_model_keeps_its_temperature_on_openai(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY)
    sent = provider(sim, monkeypatch).request_kwargs(
        ChatRequest(
            model="gpt-4.1", messages=[{"role": "user", "content": "hi"}], max_tokens=64, temperature=0.2
        )
    )
    assert sent["temperature"] == 0.2 and sent["max_completion_tokens"] == 64


def test_compatible_server_rejection_is_retried_once_per_parameter_and_remembered(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY)
    p = provider(sim, monkeypatch, type_="openai-compatible")
    request = ChatRequest(
        model="o9-sim", messages=[{"role": "user", "content": "hi"}], max_tokens=400, temperature=0.0
    )
    assert {"max_tokens", "temperature"} <= set(p.request_kwargs(request))

    async def twice() -> None:
        try:
            await p.complete(request)
            await p.complete(request)
        finally:
            await p.aclose()

    asyncio.run(twice())
    # First call: rejected for max_tokens, then for temperature, then accepted; second call: one request.
    assert chat_requests(sim) == 4
    remembered = p.request_kwargs(request)
    assert "temperature" not in remembered and remembered["max_completion_tokens"] == 400


@pytest.mark.parametrize(("kind", "error"), CHAT_FAULTS)
def test_each_chat_fault_becomes_its_typed_error(
    make_simulator: Callable[..., Simulator],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    error: type[ProviderError],
) -> None:
    sim = make_simulator(api_key=KEY, faults=[Fault(kind=kind, retry_after=0.25, hang_s=3)])
    with pytest.raises(error) as caught:
        ask(provider(sim, monkeypatch, timeout_s=0.5 if kind == "timeout" else 30.0))
    assert caught.value.provider == "oa"
    assert chat_requests(sim) == 1
    if kind == "rate_limit":
        assert caught.value.retry_after == pytest.approx(0.25)
        assert caught.value.retryable


def test_unknown_model_is_not_found(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY)
    with pytest.raises(ModelNotFound):
        ask(provider(sim, monkeypatch), "gpt-does-not-exist")


def test_auth_error_text_and_logs_never_contain_the_key(
    make_simulator: Callable[..., Simulator],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = make_simulator(api_key="sk-the-right-key-000000000000")
    p = provider(sim, monkeypatch)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as listed:
        p.list_models()
    with pytest.raises(AuthError) as chatted:
        ask(p)
    for exc in (listed.value, chatted.value):
        assert KEY not in str(exc) and KEY not in repr(exc.args)
        assert exc.status == 401
    assert caplog.records
    assert all(KEY not in record.getMessage() for record in caplog.records)


def test_list_retries_a_rate_limit_honouring_retry_after(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(
        api_key=KEY, faults=[Fault(kind="rate_limit", endpoint="models", count=2, retry_after=0.05)]
    )
    infos = provider(sim, monkeypatch, max_retries=3).list_models()
    assert "gpt-sim-base" in {i.id for i in infos}
    assert sim.stats()["by_endpoint"]["openai.models"] == 3


def test_list_gives_up_after_max_retries(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY, faults=[Fault(kind="rate_limit", endpoint="models", retry_after=0.01)])
    with pytest.raises(RateLimited):
        provider(sim, monkeypatch, max_retries=2).list_models()
    assert sim.stats()["by_endpoint"]["openai.models"] == 3


def test_list_does_not_retry_an_auth_error(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key="another-key")
    with pytest.raises(AuthError):
        provider(sim, monkeypatch, max_retries=3).list_models()
    assert sim.stats()["by_endpoint"]["openai.models"] == 1


def test_list_with_malformed_json_is_a_bad_response(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY, faults=[Fault(kind="malformed_json", endpoint="models")])
    with pytest.raises(BadResponse):
        provider(sim, monkeypatch).list_models()


@pytest.mark.parametrize("quirk", ["bare_array", "data_null", "no_created"])
def test_compatible_list_accepts_the_common_server_quirks(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch, quirk: str
) -> None:
    sim = make_simulator(
        api_key=KEY, openai_list_quirk=quirk, models=[SimModel("llama-sim-8b"), SimModel("nomic-embed-sim")]
    )
    p = provider(sim, monkeypatch, type_="openai-compatible")
    infos = p.list_models()
    if quirk == "data_null":
        assert infos == []
        return
    assert sorted(i.id for i in infos) == ["llama-sim-8b", "nomic-embed-sim"]
    assert [i.id for i in infos if p.is_chat_model(i)] == ["llama-sim-8b"]
    if quirk == "no_created":
        assert all(i.created is None for i in infos)


def test_compatible_chat_sends_max_tokens_and_temperature(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY)
    p = provider(sim, monkeypatch, type_="openai-compatible")
    sent = p.request_kwargs(
        ChatRequest(
            model="llama-3", messages=[{"role": "user", "content": "hi"}], max_tokens=32, temperature=0.0
        )
    )
    assert sent["max_tokens"] == 32 and sent["temperature"] == 0.0
    assert ask(p, max_tokens=200, temperature=0.0).text


@pytest.mark.parametrize(
    ("model_id", "chat"),
    [
        ("llama3.2:latest", True),
        ("deepseek-chat", True),
        ("mistral-large-latest", True),
        ("qwen2.5-coder:7b", True),
        ("nomic-embed-text", False),
        ("whisper-large-v3", False),
        ("bge-reranker-v2", False),
        ("llama-guard-3-8b", False),
        ("dall-e-3", False),
        ("black-forest-labs/FLUX.1-schnell", False),
        ("stabilityai/stable-diffusion-xl-base-1.0", False),
        ("playai-tts", False),
        ("gpt-oss-safeguard-20b", True),
        ("openai/gpt-oss-safeguard-20b", True),
        ("meta-llama/llama-prompt-guard-2-86m", False),
        ("bge-m3", False),
        ("all-minilm:latest", False),
        ("intfloat/e5-large-v2", False),
        ("multilingual-e5-large-instruct", False),
        ("canopylabs/orpheus-v1-english", False),
        ("qwen2.5-7b-base", False),
        ("deepseek-ai/deepseek-v3-base", False),
        ("gemma-3-270m-it", True),
    ],
)
def test_compatible_default_rule_keeps_chat_models_and_drops_other_modalities(
    model_id: str, chat: bool
) -> None:
    assert is_compatible_chat_model(ModelInfo(id=model_id)) is chat
