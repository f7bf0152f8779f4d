"""The simulator speaks OpenAI well enough for the real openai SDK: list, chat, errors, reasoning rules."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import openai
import pytest
import requests

from monitor.simulator import SimModel, Simulator


def client(sim: Simulator, key: str = "sim-key") -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=sim.base_url + "/v1", max_retries=0, timeout=30)


def test_models_list_has_every_openai_model_with_created_and_owner(simulator: Simulator) -> None:
    models = client(simulator).models.list().data
    ids = [m.id for m in models]
    assert "gpt-sim-base" in ids and "text-embedding-sim-3" in ids
    assert "claude-sim-sonnet-20260115" not in ids
    assert all(isinstance(m.created, int) and m.owned_by == "system" for m in models)


def test_chat_completion_has_resolved_snapshot_usage_and_request_id(simulator: Simulator) -> None:
    raw = client(simulator).chat.completions.with_raw_response.create(
        model="gpt-sim-base", messages=[{"role": "user", "content": "Say hello."}], max_tokens=200
    )
    completion = raw.parse()
    assert raw.headers["x-request-id"] == completion._request_id
    assert "x-ratelimit-remaining-requests" in raw.headers
    assert completion.model == "gpt-sim-base-2026-01-01"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.content
    usage = completion.usage
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert completion.system_fingerprint and completion.system_fingerprint.startswith("fp_")


def test_small_max_tokens_cuts_the_answer_with_finish_reason_length(simulator: Simulator) -> None:
    completion = client(simulator).chat.completions.create(
        model="gpt-sim-base", messages=[{"role": "user", "content": "Tell me about the sea."}], max_tokens=3
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens <= 3


def test_wrong_key_gets_401_invalid_api_key(simulator: Simulator) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        client(simulator, key="sk-wrong-123").models.list()
    assert info.value.code == "invalid_api_key"
    assert "sk-wrong-123" in info.value.message


def test_unknown_model_gets_404_model_not_found(simulator: Simulator) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client(simulator).chat.completions.create(
            model="gpt-nope", messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.code == "model_not_found"


def test_non_chat_model_is_refused_at_chat_completions(simulator: Simulator) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client(simulator).chat.completions.create(
            model="text-embedding-sim-3", messages=[{"role": "user", "content": "hi"}]
        )
    assert "not a chat model" in info.value.message


def test_reasoning_model_rejects_max_tokens_with_unsupported_parameter(simulator: Simulator) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client(simulator).chat.completions.create(
            model="o9-sim", messages=[{"role": "user", "content": "hi"}], max_tokens=50
        )
    assert info.value.code == "unsupported_parameter" and info.value.param == "max_tokens"
    assert "Use 'max_completion_tokens' instead." in info.value.message


def test_reasoning_model_rejects_temperature_zero_with_unsupported_value(simulator: Simulator) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client(simulator).chat.completions.create(
            model="o9-sim", messages=[{"role": "user", "content": "hi"}], temperature=0
        )
    assert info.value.code == "unsupported_value" and info.value.param == "temperature"
    assert info.value.body["message"] == (  # type: ignore[index]
        "Unsupported value: 'temperature' does not support 0 with this model. "
        "Only the default (1) value is supported."
    )


def test_reasoning_model_answers_with_max_completion_tokens_and_counts_reasoning(
    simulator: Simulator,
) -> None:
    completion = client(simulator).chat.completions.create(
        model="o9-sim", messages=[{"role": "user", "content": "hi"}], max_completion_tokens=500
    )
    usage = completion.usage
    assert usage is not None and usage.completion_tokens_details is not None
    assert 0 < usage.completion_tokens_details.reasoning_tokens < usage.completion_tokens


def test_same_prompt_gets_the_same_answer_twice(simulator: Simulator) -> None:
    messages = [{"role": "user", "content": "Maria has 12 apples and buys 7 more. How many apples now?"}]
    first = client(simulator).chat.completions.create(model="gpt-sim-mini", messages=messages)  # type: ignore[arg-type]
    second = client(simulator).chat.completions.create(model="gpt-sim-mini", messages=messages)  # type: ignore[arg-type]
    assert first.choices[0].message.content == second.choices[0].message.content


@pytest.mark.parametrize("quirk", ["bare_array", "data_null", "no_created"])
def test_openai_compatible_list_quirks(make_simulator: Callable[..., Simulator], quirk: str) -> None:
    sim = make_simulator(openai_list_quirk=quirk)
    body = requests.get(
        sim.base_url + "/v1/models", headers={"Authorization": "Bearer sim-key"}, timeout=30
    ).json()
    if quirk == "bare_array":
        assert isinstance(body, list) and body[0]["id"]
    elif quirk == "data_null":
        assert body["data"] is None
    else:
        assert all("created" not in item for item in body["data"])


def test_async_client_works_against_the_simulator_in_the_same_loop() -> None:
    async def scenario() -> str | None:
        sim = Simulator(models=[SimModel("gpt-sim-x", "openai", latency_ms=0)])
        await sim.start()
        try:
            async with openai.AsyncOpenAI(
                api_key="sim-key", base_url=sim.base_url + "/v1", max_retries=0
            ) as c:
                done = await c.chat.completions.create(
                    model="gpt-sim-x", messages=[{"role": "user", "content": "hi"}]
                )
                return done.choices[0].message.content
        finally:
            await sim.stop()

    assert asyncio.run(scenario())
