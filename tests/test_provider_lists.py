"""Model-list and request variants of real servers, from the simulator through the real adapters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from monitor.core.config import ProviderConfig
from monitor.pipeline.poll.diff import StoredModel, diff_models
from monitor.providers import BadResponse, ChatRequest, ModelInfo, get_provider
from monitor.providers.anthropic import AnthropicProvider
from monitor.providers.gemini import GeminiProvider, api_root
from monitor.providers.openai import OpenAIProvider
from monitor.simulator import Fault, SimModel, Simulator

KEY = "sim-lists-key-5678"
JAN_1_2026 = datetime(2026, 1, 1, tzinfo=UTC)


def compatible(sim: Simulator, *, key: str | None = KEY) -> OpenAIProvider:
    cfg = ProviderConfig(
        type="openai-compatible", base_url=f"{sim.base_url}/v1", timeout_s=30.0, max_retries=0
    )
    return OpenAIProvider("local", cfg, key)


def gemini(sim: Simulator, base_url: str | None = None) -> GeminiProvider:
    cfg = ProviderConfig(
        type="gemini", base_url=base_url or sim.base_url, api_key_env="UNUSED", timeout_s=30.0, max_retries=0
    )
    return GeminiProvider("gemini", cfg, KEY)


def complete(p: Any, request: ChatRequest) -> Any:
    async def run() -> Any:
        try:
            return await p.complete(request)
        finally:
            await p.aclose()

    return asyncio.run(run())


def test_a_keyless_server_gets_no_authorization_header(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=None, models=[SimModel("llama-sim", "openai")])
    p = get_provider("local", ProviderConfig(type="openai-compatible", base_url=f"{sim.base_url}/v1"))
    assert [info.id for info in p.list_models()] == ["llama-sim"]
    answer = complete(p, ChatRequest(model="llama-sim", messages=[{"role": "user", "content": "hi"}]))
    assert answer.text
    assert sim.stats()["requests"] == 2 and sim.stats()["with_authorization"] == 0


def test_a_keyed_server_gets_the_bearer_key(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=[SimModel("llama-sim", "openai")])
    p = compatible(sim)
    p.list_models()
    complete(p, ChatRequest(model="llama-sim", messages=[{"role": "user", "content": "hi"}]))
    assert sim.stats()["with_authorization"] == 2


def test_llama_cpp_aliases_are_recorded_and_its_request_time_created_is_dropped(
    make_simulator: Callable[..., Simulator],
) -> None:
    model = SimModel(
        "gemma-3-270m",
        "openai",
        aliases=["gemma-3-270m", "gemma-small"],
        created_now=True,
        owned_by="llamacpp",
    )
    sim = make_simulator(api_key=KEY, models=[model])
    (info,) = compatible(sim).list_models()
    assert info.aliases == ("gemma-small",)
    assert info.created is None and "created" not in info.raw
    assert info.raw["aliases"] == ["gemma-3-270m", "gemma-small"]


def test_mistral_alias_entries_of_one_model_are_one_model(make_simulator: Callable[..., Simulator]) -> None:
    dated = {"name": "mistral-large-2411"}
    models = [
        SimModel("mistral-large-latest", "openai", aliases=["mistral-large-2411"], extra=dated),
        SimModel("mistral-large-2411", "openai", aliases=["mistral-large-latest"], extra=dated),
        SimModel("mistral-small-latest", "openai", aliases=[], extra={"name": "mistral-small-2503"}),
    ]
    sim = make_simulator(api_key=KEY, models=models)
    infos = {info.id: info for info in compatible(sim).list_models()}
    assert set(infos) == {"mistral-large-2411", "mistral-small-latest"}
    assert infos["mistral-large-2411"].aliases == ("mistral-large-latest",)


@pytest.mark.parametrize("created", [1767225600000, "1767225600", "1767225600000", "2026-01-01T00:00:00Z"])
def test_created_in_milliseconds_or_as_a_string_is_read(
    make_simulator: Callable[..., Simulator], created: Any
) -> None:
    sim = make_simulator(api_key=KEY, models=[SimModel("m-sim", "openai", extra={"created": created})])
    (info,) = compatible(sim).list_models()
    assert info.created == JAN_1_2026


def test_anthropic_epoch_placeholder_is_an_unknown_date(make_simulator: Callable[..., Simulator]) -> None:
    models = [
        SimModel("claude-sim-undated", "anthropic", created=datetime(1970, 1, 1, tzinfo=UTC)),
        SimModel("claude-sim-dated", "anthropic", created=JAN_1_2026),
    ]
    sim = make_simulator(api_key=KEY, models=models)
    cfg = ProviderConfig(type="anthropic", base_url=sim.base_url, api_key_env="UNUSED", max_retries=0)
    infos = {info.id: info for info in AnthropicProvider("claude", cfg, KEY).list_models()}
    assert infos["claude-sim-undated"].created is None
    assert infos["claude-sim-dated"].created == JAN_1_2026


def test_groq_active_and_openrouter_expiration_date_are_deprecation_signals(
    make_simulator: Callable[..., Simulator],
) -> None:
    models = [
        SimModel("llama-sim-groq", "openai", extra={"active": False}),
        SimModel("vendor/model-sim", "openai", extra={"expiration_date": "2026-12-31"}),
    ]
    sim = make_simulator(api_key=KEY, models=models)
    listed = compatible(sim).list_models()
    stored = [
        StoredModel(i, info.id, None, None, None, 0, JAN_1_2026, {"id": info.id, "active": True})
        for i, info in enumerate(listed)
    ]
    diff = diff_models(stored, listed, {info.id for info in listed}, bootstrap=False)
    changes = {row.model_id: found for row, _info, found in diff.changed}
    assert changes["llama-sim-groq"]["active"] == [True, False]
    assert changes["vendor/model-sim"]["expiration_date"] == [None, "2026-12-31"]


def test_together_non_chat_types_are_not_chat_models(make_simulator: Callable[..., Simulator]) -> None:
    models = [
        SimModel(f"together/{kind}-sim", "openai", extra={"type": kind})
        for kind in ("chat", "language", "code", "image", "embedding", "moderation", "rerank")
    ]
    sim = make_simulator(api_key=KEY, models=models, openai_list_quirk="bare_array")
    p = compatible(sim)
    assert [info.id for info in p.list_models() if p.is_chat_model(info)] == ["together/chat-sim"]


def test_gemma_system_prompt_is_folded_into_the_first_user_turn(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=[SimModel("gemma-sim-3-27b-it", "gemini", system_prompt=False)])
    messages = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "What is 2 + 3?"}]
    # The simulator, like Gemini, rejects a system turn for this model...
    response = requests.post(
        f"{sim.base_url}/v1beta/openai/chat/completions",
        json={"model": "gemma-sim-3-27b-it", "messages": messages},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    )
    assert response.status_code == 400 and "Developer instruction is not enabled" in response.text
    # ...and the adapter sends it inside the user turn instead.
    p = gemini(sim)
    request = ChatRequest(model="gemma-sim-3-27b-it", messages=messages)
    assert p.request_kwargs(request)["messages"] == [
        {"role": "user", "content": "Be terse.\n\nWhat is 2 + 3?"}
    ]
    assert complete(p, request).text


def test_gemini_base_url_ending_in_v1_is_the_api_root(make_simulator: Callable[..., Simulator]) -> None:
    assert (
        api_root("https://generativelanguage.googleapis.com/v1/")
        == "https://generativelanguage.googleapis.com"
    )
    sim = make_simulator(api_key=KEY, models=[SimModel("gemini-sim-flash", "gemini")])
    assert [info.id for info in gemini(sim, f"{sim.base_url}/v1").list_models()] == ["gemini-sim-flash"]


def test_gemini_empty_object_is_not_a_complete_empty_list(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, faults=[Fault("empty_object", provider="gemini", endpoint="models")])
    with pytest.raises(BadResponse):
        gemini(sim).list_models()


@pytest.mark.parametrize(
    "model_id",
    [
        "gemini-sim-2.5-computer-use-preview",
        "deep-research-sim-pro-preview",
        "veo-sim-3",
        "aqa",
        "gemini-sim-2.5-flash-native-audio",
        "gemini-sim-2.5-flash-image",
    ],
)
def test_gemini_non_chat_families_are_not_chat_models(
    make_simulator: Callable[..., Simulator], model_id: str
) -> None:
    sim = make_simulator(
        api_key=KEY, models=[SimModel(model_id, "gemini"), SimModel("gemini-sim-pro", "gemini")]
    )
    p = gemini(sim)
    assert [info.id for info in p.list_models() if p.is_chat_model(info)] == ["gemini-sim-pro"]


def test_chat_latest_keeps_its_temperature() -> None:
    p = OpenAIProvider("oa", ProviderConfig(type="openai", api_key_env="UNUSED"), KEY)
    sent = p.request_kwargs(
        ChatRequest(model="gpt-5-chat-latest", messages=[{"role": "user", "content": "hi"}], temperature=0.2)
    )
    assert sent["temperature"] == 0.2
    assert p.is_chat_model(ModelInfo(id="gpt-4o-search-preview"))
