"""The Gemini adapter against the simulator: native list with pageToken, OpenAI-compatible chat."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
from openai.types.chat import ChatCompletion
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming

from monitor.core.config import ProviderConfig
from monitor.providers import (
    AuthError,
    BadResponse,
    ChatRequest,
    ModelNotFound,
    Overloaded,
    ProviderError,
    RateLimited,
)
from monitor.providers.base import ToolCall, ToolSpec
from monitor.providers.gemini import GeminiProvider, api_root, fold_system, thinking_params
from monitor.simulator import Fault, SimModel, Simulator
from tests.fake_openai import FakeOpenAI
from tests.provider_faults import CHAT_FAULTS
from tests.sdk_params import violations

KEY = "gemini-sim-key-7"

MODELS = [
    SimModel("gemini-sim-flash", "gemini"),
    SimModel("gemini-sim-pro", "gemini"),
    SimModel("gemini-sim-flash-image", "gemini"),
    SimModel("gemini-sim-live-preview", "gemini"),
    SimModel("text-embedding-sim-004", "gemini", chat=False),
    SimModel("imagen-sim-3", "gemini", chat=False),
    SimModel("gemma-sim-3", "gemini"),
]


def provider(sim: Simulator, *, page_size: int = 1000, **cfg: Any) -> GeminiProvider:
    settings: dict[str, Any] = {"timeout_s": 30.0, "max_retries": 0, **cfg}
    config = ProviderConfig(type="gemini", base_url=sim.base_url, api_key_env="UNUSED", **settings)
    return GeminiProvider("gemini", config, KEY, page_size=page_size)


def ask(p: GeminiProvider, model: str = "gemini-sim-flash", **kw: Any) -> Any:
    async def run() -> Any:
        try:
            return await p.complete(
                ChatRequest(model=model, messages=[{"role": "user", "content": "What is 2 + 3?"}], **kw)
            )
        finally:
            await p.aclose()

    return asyncio.run(run())


def test_lists_every_page_following_next_page_token(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    infos = provider(sim, page_size=3).list_models()
    assert [i.id for i in infos] == [m.id for m in MODELS]
    assert sim.stats()["by_endpoint"]["gemini.models"] == 3
    assert infos[0].display_name == MODELS[0].display_name
    assert infos[0].raw["name"] == "models/gemini-sim-flash"


def test_default_rule_keeps_text_generation_models_only(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    p = provider(sim)
    kept = [i.id for i in p.list_models() if p.is_chat_model(i)]
    assert kept == ["gemini-sim-flash", "gemini-sim-pro", "gemma-sim-3"]


def test_completes_a_chat_through_the_openai_compatible_endpoint(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    completion = ask(provider(sim), max_tokens=300, temperature=0.0)
    assert completion.text
    assert completion.finish_reason == "stop"
    assert completion.input_tokens and completion.output_tokens
    assert completion.resolved_model == "gemini-sim-flash"
    assert sim.stats()["by_endpoint"]["gemini.chat"] == 1


def test_base_url_is_the_api_root_with_fixed_paths() -> None:
    assert api_root(None) == "https://generativelanguage.googleapis.com"
    assert api_root("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert api_root("https://generativelanguage.googleapis.com/v1beta/openai/") == (
        "https://generativelanguage.googleapis.com"
    )


@pytest.mark.parametrize(("kind", "error"), CHAT_FAULTS)
def test_each_chat_fault_becomes_its_typed_error(
    make_simulator: Callable[..., Simulator], kind: str, error: type[ProviderError]
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, faults=[Fault(kind=kind, retry_after=0.4, hang_s=3)])
    with pytest.raises(error) as caught:
        ask(provider(sim, timeout_s=0.5 if kind == "timeout" else 30.0))
    if kind == "rate_limit":
        assert caught.value.retry_after == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("kind", "error"),
    [("rate_limit", RateLimited), ("overloaded", Overloaded), ("malformed_json", BadResponse)],
)
def test_each_list_fault_becomes_its_typed_error(
    make_simulator: Callable[..., Simulator], kind: str, error: type[ProviderError]
) -> None:
    sim = make_simulator(
        api_key=KEY, models=MODELS, faults=[Fault(kind=kind, endpoint="models", retry_after=0.4)]
    )
    with pytest.raises(error) as caught:
        provider(sim).list_models()
    if kind == "rate_limit":
        assert caught.value.retry_after == pytest.approx(0.4)


def test_unknown_model_is_not_found_from_an_array_wrapped_error(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    with pytest.raises(ModelNotFound):
        ask(provider(sim), "gemini-does-not-exist")


def test_invalid_key_is_an_auth_error_whose_text_and_logs_hold_no_key(
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
        assert KEY not in str(exc) and "[redacted]" in str(exc)
    assert all(KEY not in record.getMessage() for record in caplog.records)


def test_a_failure_on_a_later_page_fails_the_whole_list(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, rpm_limit=1)
    with pytest.raises(RateLimited):
        provider(sim, page_size=3, max_retries=3).list_models()
    assert sim.stats()["by_endpoint"]["gemini.models"] == 2


ORDER = ToolSpec(
    name="get_order",
    description="Look up an order by its id",
    parameters={"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
)
PICTURE = [
    {"type": "text", "text": "What colour is this?"},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
]


def test_fold_system_copes_with_text_parts_and_keeps_a_users_image_parts() -> None:
    messages: list[dict[str, Any]] = [
        {
            "role": "system",
            "content": [{"type": "text", "text": "Be terse."}, {"type": "text", "text": " Always."}],
        },
        {"role": "developer", "content": "Answer in English."},
        {"role": "user", "content": PICTURE},
        {"role": "assistant", "content": "Red."},
    ]
    assert fold_system(messages) == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Be terse. Always.\n\nAnswer in English."}, *PICTURE],
        },
        {"role": "assistant", "content": "Red."},
    ]
    assert fold_system([{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]) == [
        {"role": "user", "content": "S\n\nQ"}
    ]
    tool_turns = [{"role": "system", "content": "S"}, {"role": "tool", "tool_call_id": "c", "content": "x"}]
    assert fold_system(tool_turns) == [{"role": "user", "content": "S"}, tool_turns[1]]


@pytest.mark.parametrize(
    ("extra", "sent"),
    [
        ({"thinking_budget": 800}, {"extra_body": {"google": {"thinking_config": {"thinking_budget": 800}}}}),
        (
            {"thinking_budget": 0, "top_p": 0.5},
            {"top_p": 0.5, "extra_body": {"google": {"thinking_config": {"thinking_budget": 0}}}},
        ),
        ({"thinking_budget": 800, "reasoning_effort": "low"}, {"reasoning_effort": "low"}),
        ({"reasoning_effort": "high"}, {"reasoning_effort": "high"}),
    ],
)
def test_a_thinking_budget_is_geminis_thinking_config_unless_an_effort_is_given(
    extra: dict[str, Any], sent: dict[str, Any]
) -> None:
    assert thinking_params(extra) == sent


def gemini(key: str = KEY) -> GeminiProvider:
    config = ProviderConfig(type="gemini", base_url="http://fake.test", timeout_s=5.0, max_retries=0)
    return GeminiProvider("gemini", config, key)


def test_the_chat_request_carries_tools_format_images_and_thinking_in_the_compatible_shape() -> None:
    request = ChatRequest(
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": PICTURE}],
        tools=(ORDER,),
        tool_choice="get_order",
        response_format={"type": "json_object"},
        extra={"thinking_budget": 1024},
    )
    kwargs = gemini().request_kwargs(request)
    assert kwargs["tools"][0]["function"]["name"] == "get_order"
    assert kwargs["tool_choice"] == {"type": "function", "function": {"name": "get_order"}}
    assert kwargs["response_format"] == {"type": "json_object"}
    assert kwargs["messages"] == request.messages
    assert kwargs["extra_body"] == {"extra_body": {"google": {"thinking_config": {"thinking_budget": 1024}}}}
    assert "reasoning_effort" not in kwargs
    effort = gemini().request_kwargs(
        ChatRequest(model="gemini-2.5-pro", messages=[], extra={"reasoning_effort": "low"})
    )
    assert effort["reasoning_effort"] == "low" and "extra_body" not in effort


def test_the_wire_body_and_a_tool_call_answer_round_trip_through_the_sdk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeOpenAI(monkeypatch)
    call = {"id": "", "type": "function", "function": {"name": "get_order", "arguments": '{"order_id":"A1"}'}}
    fake.answer(
        ChatCompletion.model_validate(
            {
                "id": "g-1",
                "object": "chat.completion",
                "created": 1,
                "model": "gemma-3-27b-it",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "tool_calls": [call]},
                    }
                ],
                "usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 30},
            }
        )
    )
    request = ChatRequest(
        model="gemma-3-27b-it",
        messages=[{"role": "system", "content": "Be terse."}, {"role": "user", "content": PICTURE}],
        tools=(ORDER,),
        extra={"thinking_budget": 512},
    )
    p = gemini()

    async def run() -> Any:
        try:
            return await p.complete(request)
        finally:
            await p.aclose()

    done = asyncio.run(run())
    (body,) = fake.bodies
    assert fake.paths == ["/v1beta/openai/chat/completions"]
    assert body["extra_body"] == {"google": {"thinking_config": {"thinking_budget": 512}}}
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Be terse."}, *PICTURE]}
    ]
    assert (
        violations({k: v for k, v in body.items() if k != "extra_body"}, CompletionCreateParamsNonStreaming)
        == []
    )
    assert done.tool_calls == (ToolCall("call_0", "get_order", '{"order_id":"A1"}'),)
    assert done.outcome == "tool_calls" and (done.output_tokens, done.reasoning_tokens) == (21, 16)
