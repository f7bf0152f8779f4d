"""The chat-completions adapter's tools, structured output, images, conversations and reasoning params,
checked against the openai SDK's param TypedDicts (requests) and `ChatCompletion` (answers)."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionToolParam
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming

from monitor.core.config import ProviderConfig
from monitor.providers import BadRequest, ChatRequest
from monitor.providers.base import Completion, ToolCall, ToolSpec
from monitor.providers.openai import OpenAIProvider
from tests.fake_openai import FakeOpenAI
from tests.sdk_params import violations

ORDER = ToolSpec(
    name="get_order",
    description="Look up an order by its id",
    parameters={"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
    strict=True,
)
REFUND = ToolSpec(name="refund", description="", parameters={"type": "object", "properties": {}})
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
CONTACT = {"type": "json_schema", "name": "contact", "schema": SCHEMA, "strict": True}
USER = {"role": "user", "content": "Where is order A1234?"}
IMAGE = {
    "role": "user",
    "content": [
        {"type": "text", "text": "What colour is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/red.png", "detail": "low"}},
    ],
}
CONVERSATION: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a support agent."},
    USER,
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_order", "arguments": '{"order_id":"A1234"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "shipped"}'},
]
_SDK_ONLY = ("timeout", "extra_headers", "extra_body")


def provider(
    type_: Literal["openai", "openai-compatible"] = "openai", key: str | None = "sk-test"
) -> OpenAIProvider:
    config = ProviderConfig(type=type_, base_url="http://fake.test/v1", timeout_s=5.0, max_retries=0)
    return OpenAIProvider("oa", config, key)


def request(model: str = "gpt-4.1", **kw: Any) -> ChatRequest:
    return ChatRequest(model=model, messages=kw.pop("messages", [USER]), **kw)


def body_of(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The JSON body the SDK makes of `kwargs`: `extra_body` merged in, transport options left out."""
    body = {k: v for k, v in kwargs.items() if k not in _SDK_ONLY}
    return {**body, **kwargs.get("extra_body", {})}


def chat(p: OpenAIProvider, req: ChatRequest) -> Completion:
    async def run() -> Completion:
        try:
            return await p.complete(req)
        finally:
            await p.aclose()

    return asyncio.run(run())


def answer(message: dict[str, Any], finish_reason: str = "stop", **extra: Any) -> ChatCompletion:
    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4.1-2025-04-14",
            "choices": [
                {"index": 0, "finish_reason": finish_reason, "message": {"role": "assistant", **message}}
            ],
            "usage": {"prompt_tokens": 20, "completion_tokens": 12, "total_tokens": 32},
            **extra,
        }
    )


def call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def test_tools_go_in_the_chat_function_form_with_strict() -> None:
    sent = provider().request_kwargs(request(tools=(ORDER, REFUND)))
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_order",
                "description": "Look up an order by its id",
                "parameters": ORDER.parameters,
                "strict": True,
            },
        },
        {
            "type": "function",
            "function": {
                "name": "refund",
                "description": "",
                "parameters": REFUND.parameters,
                "strict": False,
            },
        },
    ]
    for tool in sent["tools"]:
        assert violations(tool, ChatCompletionToolParam) == []
    assert "tool_choice" not in sent and "response_format" not in sent


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", "auto"),
        ("required", "required"),
        ("none", "none"),
        ("get_order", {"type": "function", "function": {"name": "get_order"}}),
    ],
)
def test_tool_choice_is_a_mode_or_the_named_function(choice: str, sent: Any) -> None:
    kwargs = provider().request_kwargs(request(tools=(ORDER,), tool_choice=choice))
    assert kwargs["tool_choice"] == sent
    assert violations(body_of(kwargs), CompletionCreateParamsNonStreaming) == []


@pytest.mark.parametrize(
    ("response_format", "sent"),
    [
        ({"type": "json_object"}, {"type": "json_object"}),
        (
            CONTACT,
            {"type": "json_schema", "json_schema": {"name": "contact", "schema": SCHEMA, "strict": True}},
        ),
        (
            {"type": "json_schema", "name": "loose", "schema": SCHEMA},
            {"type": "json_schema", "json_schema": {"name": "loose", "schema": SCHEMA, "strict": False}},
        ),
    ],
)
def test_response_format_is_json_mode_or_a_json_schema(response_format: dict[str, Any], sent: Any) -> None:
    kwargs = provider().request_kwargs(request(response_format=response_format))
    assert kwargs["response_format"] == sent
    assert violations(body_of(kwargs), CompletionCreateParamsNonStreaming) == []


@pytest.mark.parametrize(
    "response_format",
    [{"type": "text"}, {"type": "json_schema", "name": "x"}, {"type": "json_schema", "schema": SCHEMA}, {}],
)
def test_a_response_format_outside_the_two_forms_is_a_bad_request_not_plain_text(
    response_format: dict[str, Any],
) -> None:
    with pytest.raises(BadRequest, match="oa: unsupported response_format"):
        provider().request_kwargs(request(response_format=response_format))


def test_images_and_a_tool_conversation_go_as_given_and_conform() -> None:
    messages = [*CONVERSATION, IMAGE]
    for p in (provider(), provider("openai-compatible")):
        kwargs = p.request_kwargs(request(messages=messages, tools=(ORDER,), max_tokens=64))
        assert kwargs["messages"] == messages
        assert violations(body_of(kwargs), CompletionCreateParamsNonStreaming) == []


@pytest.mark.parametrize(
    ("extra", "effort"),
    [
        ({"reasoning_effort": "minimal"}, "minimal"),
        ({"thinking_budget": 1024}, "low"),
        ({"thinking_budget": 2048}, "low"),
        ({"thinking_budget": 2049}, "medium"),
        ({"thinking_budget": 8192}, "medium"),
        ({"thinking_budget": 8193}, "high"),
        ({"thinking_budget": 32000, "reasoning_effort": "low"}, "low"),
    ],
)
def test_reasoning_effort_is_top_level_and_a_thinking_budget_maps_by_bands(
    extra: dict[str, Any], effort: str
) -> None:
    for model in ("o4-mini", "gpt-4.1"):
        kwargs = provider().request_kwargs(request(model, extra={**extra, "stop": ["END"]}))
        assert kwargs["reasoning_effort"] == effort
        assert kwargs["extra_body"] == {"stop": ["END"]}
        assert "thinking_budget" not in body_of(kwargs)
        assert violations(body_of(kwargs), CompletionCreateParamsNonStreaming) == []


def test_no_reasoning_param_sends_no_effort_and_a_non_integer_budget_is_a_bad_request() -> None:
    assert "reasoning_effort" not in provider().request_kwargs(request(extra={"top_p": 0.5}))
    with pytest.raises(BadRequest, match="thinking_budget"):
        provider().request_kwargs(request(extra={"thinking_budget": "lots"}))


def test_the_body_the_sdk_sends_carries_every_feature(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeOpenAI(monkeypatch)
    fake.answer(answer({"content": "Shipped."}))
    req = request(
        "o4-mini",
        messages=[*CONVERSATION, IMAGE],
        tools=(ORDER,),
        tool_choice="required",
        response_format=CONTACT,
        max_tokens=300,
        temperature=0.0,
        extra={"thinking_budget": 4000, "top_p": 0.9},
    )
    chat(provider(), req)
    (body,) = fake.bodies
    assert fake.paths == ["/v1/chat/completions"]
    assert violations(body, CompletionCreateParamsNonStreaming) == []
    assert body["messages"] == [*CONVERSATION, IMAGE]
    assert body["tools"][0]["function"]["name"] == "get_order" and body["tool_choice"] == "required"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["reasoning_effort"] == "medium" and body["max_completion_tokens"] == 300
    assert not {"temperature", "top_p", "thinking_budget"} & set(body)  # a reasoning model


def test_a_tool_call_answer_is_parsed_with_its_raw_arguments_and_usage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeOpenAI(monkeypatch)
    usage = {
        "prompt_tokens": 20,
        "completion_tokens": 40,
        "total_tokens": 60,
        "completion_tokens_details": {"reasoning_tokens": 28},
    }
    fake.answer(
        answer(
            {"content": None, "tool_calls": [call("call_9", "get_order", '{"order_id": "A1234"}')]},
            "tool_calls",
            usage=usage,
        )
    )
    done = chat(provider(), request("o4-mini", tools=(ORDER,)))
    assert done.tool_calls == (ToolCall("call_9", "get_order", '{"order_id": "A1234"}'),)
    assert done.text == "" and done.outcome == "tool_calls" and done.refusal is None
    assert (done.input_tokens, done.output_tokens, done.reasoning_tokens) == (20, 40, 28)
    assert done.request_id == "req_fake_1"


def test_invalid_json_arguments_are_kept_raw_and_two_calls_keep_their_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeOpenAI(monkeypatch)
    broken = '{"order_id": "A1234"'
    fake.answer(
        answer(
            {"tool_calls": [call("call_1", "get_order", broken), call("call_2", "refund", "{}")]},
            "tool_calls",
        )
    )
    done = chat(provider(), request(tools=(ORDER, REFUND)))
    assert [c.as_dict() for c in done.tool_calls] == [
        {"id": "call_1", "name": "get_order", "arguments": broken},
        {"id": "call_2", "name": "refund", "arguments": "{}"},
    ]


def test_text_alongside_a_tool_call_keeps_both(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeOpenAI(monkeypatch)
    fake.answer(
        answer(
            {"content": "Let me look that up.", "tool_calls": [call("c1", "get_order", "{}")]}, "tool_calls"
        )
    )
    done = chat(provider(), request(tools=(ORDER,)))
    assert done.text == "Let me look that up." and [c.name for c in done.tool_calls] == ["get_order"]


def test_a_forced_tool_call_ending_in_stop_is_still_the_tool_calls_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeOpenAI(monkeypatch)
    fake.answer(answer({"tool_calls": [call("", "get_order", '{"order_id": "B7"}')]}, "stop"))
    done = chat(provider(), request(tools=(ORDER,), tool_choice="get_order"))
    assert done.finish_reason == "tool_calls" and done.outcome == "tool_calls"
    assert done.tool_calls == (ToolCall("call_0", "get_order", '{"order_id": "B7"}'),)


def test_a_custom_tool_call_is_not_a_function_call(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeOpenAI(monkeypatch)
    custom = {"id": "ct_1", "type": "custom", "custom": {"name": "grammar", "input": "x"}}
    fake.answer(answer({"tool_calls": [custom, call("c2", "refund", "{}")]}, "tool_calls"))
    done = chat(provider(), request(tools=(REFUND,)))
    assert done.tool_calls == (ToolCall("c2", "refund", "{}"),)


def test_a_structured_output_is_the_json_text_and_a_refusal_is_kept_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeOpenAI(monkeypatch)
    fake.answer(answer({"content": '{"name": "Ada"}'}))
    fake.answer(answer({"content": None, "refusal": "I can't help with that."}))
    p = provider()
    json_done = chat(p, request(response_format=CONTACT))
    refused = chat(p, request(response_format=CONTACT))
    assert json.loads(json_done.text) == {"name": "Ada"} and json_done.outcome == "stop"
    assert json_done.tool_calls == ()
    assert refused.outcome == "refusal" and refused.refusal == "I can't help with that."
    assert refused.text == "" and refused.tool_calls == ()


@pytest.mark.parametrize("param", ["tools", "response_format", "reasoning_effort"])
def test_a_rejected_feature_is_a_bad_request_and_never_retried_without_it(
    monkeypatch: pytest.MonkeyPatch, param: str
) -> None:
    fake = FakeOpenAI(monkeypatch)
    fake.fail(400, f"Unsupported parameter: '{param}'", param=param)
    req = request(tools=(ORDER,), response_format={"type": "json_object"}, extra={"reasoning_effort": "low"})
    with pytest.raises(BadRequest, match="Unsupported parameter"):
        chat(provider(), req)
    (body,) = fake.bodies
    assert {"tools", "response_format", "reasoning_effort"} <= set(body)


def test_a_keyless_compatible_server_gets_the_same_features(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeOpenAI(monkeypatch)
    fake.answer(answer({"content": None, "tool_calls": [call("c1", "get_order", "{}")]}, "tool_calls"))
    req = request(
        "llama3.2", tools=(ORDER,), tool_choice="auto", max_tokens=50, extra={"thinking_budget": 100}
    )
    done = chat(provider("openai-compatible", key=None), req)
    (body,) = fake.bodies
    assert body["max_tokens"] == 50 and body["tool_choice"] == "auto" and body["reasoning_effort"] == "low"
    assert violations(body, CompletionCreateParamsNonStreaming) == []
    assert done.tool_calls == (ToolCall("c1", "get_order", "{}"),)


SDK_CREATE_CASES = {
    "every feature": (
        "openai",
        "sk-test",
        request(
            "o4-mini",
            messages=[*CONVERSATION, IMAGE],
            tools=(ORDER, REFUND),
            tool_choice="get_order",
            response_format=CONTACT,
            max_tokens=300,
            extra={"thinking_budget": 4000, "top_p": 0.9},
            timeout_s=7.0,
        ),
    ),
    "sampling params": (
        "openai",
        "sk-test",
        request(temperature=0.2, seed=7, extra={"top_p": 0.5, "stop": ["\n"]}),
    ),
    "keyless server": ("openai-compatible", None, request("llama3.2", tools=(ORDER,), max_tokens=50)),
}


@pytest.mark.parametrize("case", list(SDK_CREATE_CASES))
def test_the_adapter_sends_what_the_sdks_create_would_send(
    monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    type_, key, req = SDK_CREATE_CASES[case]
    fake = FakeOpenAI(monkeypatch)
    fake.answer(answer({"content": "Shipped."}))
    fake.answer(answer({"content": "Shipped."}))
    adapter = provider(type_, key=key)
    kwargs = adapter.request_kwargs(req)
    chat(adapter, req)

    async def sdk_create() -> None:
        client = provider(type_, key=key)._chat._async_client()
        try:
            await client.chat.completions.create(**kwargs)
        finally:
            await client.close()

    asyncio.run(sdk_create())
    ours, sdk = fake.bodies
    assert ours == sdk and fake.paths[0] == fake.paths[1] == "/v1/chat/completions"
    assert fake.headers[0] == fake.headers[1]  # the same auth, timeout and SDK headers
