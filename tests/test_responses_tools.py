"""The Responses adapter's tools, structured output, images, conversations and reasoning, checked against
the openai SDK's param TypedDicts (requests) and `openai.types.responses.Response` (answers)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from openai.types.responses import FunctionToolParam, Response, ResponseInputItemParam
from openai.types.responses.response_create_params import ResponseCreateParamsNonStreaming

from monitor.core.config import ProviderConfig
from monitor.providers import BadRequest, ChatRequest
from monitor.providers.base import Completion, ToolCall, ToolSpec
from monitor.providers.openai import OpenAIProvider
from monitor.providers.openai_responses import completion_from_response, responses_kwargs
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
DATA_URL = "data:image/png;base64,iVBORw0KGgo="
ARGS = '{"order_id":"A1234"}'
CONVERSATION: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a support agent."},
    USER,
    {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_order", "arguments": ARGS}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "shipped"}'},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "call_2", "function": {"name": "refund"}}]},
    {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "refunded"}]},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "And this one?"},
            {"type": "image_url", "image_url": {"url": DATA_URL}},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high"}},
        ],
    },
]
_SDK_ONLY = ("timeout", "extra_headers", "extra_body")
BASE: dict[str, Any] = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1,
    "model": "gpt-5-pro-2025-10-06",
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [],
    "status": "completed",
}


def kwargs_for(**kw: Any) -> dict[str, Any]:
    req = ChatRequest(model="gpt-5-pro", messages=kw.pop("messages", [USER]), **kw)
    return responses_kwargs(req, no_sampling=True, keyless=False, provider="oa")


def body_of(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The JSON body the SDK makes of `kwargs`: `extra_body` merged in, transport options left out."""
    body = {k: v for k, v in kwargs.items() if k not in _SDK_ONLY}
    return {**body, **kwargs.get("extra_body", {})}


def response(*output: dict[str, Any], **fields: Any) -> Response:
    return Response.model_validate({**BASE, "output": list(output), **fields})


def message(*content: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": list(content),
    }


def text(value: str) -> dict[str, Any]:
    return {"type": "output_text", "text": value, "annotations": []}


def function_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": f"fc_{call_id}",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def parsed(resp: Response) -> Completion:
    return completion_from_response(resp, 1.0, provider="oa")


def test_tools_are_flat_function_tools_with_strict() -> None:
    sent = kwargs_for(tools=(ORDER, REFUND))
    assert sent["tools"] == [
        {
            "type": "function",
            "name": "get_order",
            "description": "Look up an order by its id",
            "parameters": ORDER.parameters,
            "strict": True,
        },
        {
            "type": "function",
            "name": "refund",
            "description": "",
            "parameters": REFUND.parameters,
            "strict": False,
        },
    ]
    for tool in sent["tools"]:
        assert violations(tool, FunctionToolParam) == []
    assert "tool_choice" not in sent and "text" not in sent


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", "auto"),
        ("required", "required"),
        ("none", "none"),
        ("get_order", {"type": "function", "name": "get_order"}),
    ],
)
def test_tool_choice_is_a_mode_or_the_named_function(choice: str, sent: Any) -> None:
    kwargs = kwargs_for(tools=(ORDER,), tool_choice=choice)
    assert kwargs["tool_choice"] == sent
    assert violations(body_of(kwargs), ResponseCreateParamsNonStreaming) == []


@pytest.mark.parametrize(
    ("response_format", "sent"),
    [
        ({"type": "json_object"}, {"format": {"type": "json_object"}}),
        (CONTACT, {"format": {"type": "json_schema", "name": "contact", "schema": SCHEMA, "strict": True}}),
    ],
)
def test_response_format_is_the_text_format(response_format: dict[str, Any], sent: Any) -> None:
    kwargs = kwargs_for(response_format=response_format)
    assert kwargs["text"] == sent
    assert violations(body_of(kwargs), ResponseCreateParamsNonStreaming) == []


def test_a_response_format_outside_the_two_forms_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="oa: unsupported response_format"):
        kwargs_for(response_format={"type": "json_schema", "name": "no-schema"})


def test_a_conversation_becomes_messages_function_calls_and_their_outputs() -> None:
    kwargs = kwargs_for(messages=CONVERSATION, tools=(ORDER, REFUND))
    assert kwargs["input"] == [
        {"role": "system", "content": "You are a support agent."},
        USER,
        {"role": "assistant", "content": "Checking."},
        {"type": "function_call", "call_id": "call_1", "name": "get_order", "arguments": ARGS},
        {"type": "function_call_output", "call_id": "call_1", "output": '{"status": "shipped"}'},
        {"type": "function_call", "call_id": "call_2", "name": "refund", "arguments": ""},
        {"type": "function_call_output", "call_id": "call_2", "output": "refunded"},
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "And this one?"},
                {"type": "input_image", "image_url": DATA_URL, "detail": "auto"},
                {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "high"},
            ],
        },
    ]
    for item in kwargs["input"]:
        assert violations(item, ResponseInputItemParam) == []
    assert violations(body_of(kwargs), ResponseCreateParamsNonStreaming) == []


@pytest.mark.parametrize(
    ("messages", "match"),
    [
        ([{"role": "function", "name": "f", "content": "x"}], "role 'function'"),
        ([{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}], "type 'input_audio'"),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": "https://x/y.png"}]}],
            "type 'image_url'",
        ),
        (
            [{"role": "assistant", "content": [{"type": "image_url", "image_url": {"url": DATA_URL}}]}],
            "only text",
        ),
        (
            [{"role": "assistant", "tool_calls": [{"id": "c", "type": "custom", "custom": {}}]}],
            "type 'custom' is not a function call",
        ),
    ],
)
def test_turns_the_responses_api_cannot_take_are_bad_requests(
    messages: list[dict[str, Any]], match: str
) -> None:
    with pytest.raises(BadRequest, match=match):
        kwargs_for(messages=messages)


@pytest.mark.parametrize(
    ("extra", "effort"),
    [
        ({"reasoning_effort": "high"}, "high"),
        ({"thinking_budget": 2048}, "low"),
        ({"thinking_budget": 6000}, "medium"),
        ({"thinking_budget": 20000}, "high"),
        ({"thinking_budget": 20000, "reasoning_effort": "minimal"}, "minimal"),
    ],
)
def test_reasoning_effort_or_a_thinking_budget_by_bands_is_reasoning_effort(
    extra: dict[str, Any], effort: str
) -> None:
    kwargs = kwargs_for(extra=extra)
    assert kwargs["reasoning"] == {"effort": effort}
    assert "extra_body" not in kwargs
    assert violations(body_of(kwargs), ResponseCreateParamsNonStreaming) == []


def test_function_call_items_are_tool_calls_by_call_id_with_raw_arguments() -> None:
    broken = '{"order_id": "A1'
    done = parsed(
        response(function_call("call_a", "get_order", broken), function_call("call_b", "refund", "{}"))
    )
    assert done.tool_calls == (ToolCall("call_a", "get_order", broken), ToolCall("call_b", "refund", "{}"))
    assert done.outcome == "tool_calls" and done.text == ""


def test_text_alongside_a_tool_call_keeps_both_and_reasoning_is_not_text() -> None:
    reasoning = {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "thinking..."}],
    }
    usage = {
        "input_tokens": 30,
        "input_tokens_details": {"cached_tokens": 10, "cache_write_tokens": 0},
        "output_tokens": 50,
        "output_tokens_details": {"reasoning_tokens": 35},
        "total_tokens": 80,
    }
    done = parsed(
        response(
            reasoning, message(text("Looking it up.")), function_call("c1", "get_order", ARGS), usage=usage
        )
    )
    assert done.text == "Looking it up." and done.tool_calls == (ToolCall("c1", "get_order", ARGS),)
    assert (done.input_tokens, done.cached_input_tokens, done.output_tokens, done.reasoning_tokens) == (
        30,
        10,
        50,
        35,
    )


def test_a_structured_output_is_its_json_text_and_a_refusal_is_the_refusal_outcome() -> None:
    done = parsed(response(message(text('{"name": "Ada"}'))))
    assert json.loads(done.text) == {"name": "Ada"} and done.outcome == "stop" and done.tool_calls == ()
    refused = parsed(response(message({"type": "refusal", "refusal": "I can't help with that."})))
    assert (
        refused.outcome == "refusal" and refused.refusal == "I can't help with that." and refused.text == ""
    )


def provider() -> OpenAIProvider:
    config = ProviderConfig(type="openai", base_url="http://fake.test/v1", timeout_s=5.0, max_retries=0)
    return OpenAIProvider("oa", config, "sk-test-responses")


def complete(p: OpenAIProvider, req: ChatRequest) -> Completion:
    async def run() -> Completion:
        try:
            return await p.complete(req)
        finally:
            await p.aclose()

    return asyncio.run(run())


def test_a_responses_only_model_sends_every_feature_in_the_responses_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeOpenAI(monkeypatch)
    fake.answer(response(function_call("call_z", "get_order", ARGS)))
    req = ChatRequest(
        model="gpt-5-pro",
        messages=CONVERSATION,
        tools=(ORDER,),
        tool_choice="get_order",
        response_format=CONTACT,
        max_tokens=500,
        temperature=0.0,
        extra={"thinking_budget": 9000},
    )
    done = complete(provider(), req)
    (body,) = fake.bodies
    assert fake.paths == ["/v1/responses"]
    assert violations(body, ResponseCreateParamsNonStreaming) == []
    assert body["tool_choice"] == {"type": "function", "name": "get_order"}
    assert body["text"]["format"]["name"] == "contact" and body["reasoning"] == {"effort": "high"}
    assert "temperature" not in body and "thinking_budget" not in body
    assert done.tool_calls == (ToolCall("call_z", "get_order", ARGS),) and done.outcome == "tool_calls"


def test_a_model_learned_from_the_chat_404_gets_its_tools_on_responses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeOpenAI(monkeypatch)
    fake.fail(404, "This model is only supported in v1/responses and not in v1/chat/completions.")
    fake.answer(response(message(text("Shipped."))))
    req = ChatRequest(model="gpt-sim-new", messages=[USER], tools=(ORDER,), tool_choice="required")
    done = complete(provider(), req)
    assert fake.paths == ["/v1/chat/completions", "/v1/responses"]
    chat_body, responses_body = fake.bodies
    assert chat_body["tools"][0]["function"]["name"] == "get_order"
    assert responses_body["tools"][0]["name"] == "get_order" and responses_body["tool_choice"] == "required"
    assert done.text == "Shipped."


def test_a_rejected_feature_on_responses_is_a_bad_request(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeOpenAI(monkeypatch)
    fake.fail(400, "Invalid schema for response_format 'contact'", param="text.format.schema")
    req = ChatRequest(model="gpt-5-pro", messages=[USER], response_format=CONTACT)
    with pytest.raises(BadRequest, match="Invalid schema"):
        complete(provider(), req)
    assert len(fake.bodies) == 1


@pytest.mark.parametrize("keyless", [False, True])
def test_the_adapter_sends_what_the_sdks_responses_create_would_send(
    monkeypatch: pytest.MonkeyPatch, keyless: bool
) -> None:
    fake = FakeOpenAI(monkeypatch)
    fake.answer(response(message(text("Shipped."))))
    fake.answer(response(message(text("Shipped."))))
    req = ChatRequest(
        model="gpt-5-pro",
        messages=CONVERSATION,
        tools=(ORDER, REFUND),
        tool_choice="required",
        response_format=CONTACT,
        max_tokens=500,
        extra={"thinking_budget": 9000, "store": False},
        timeout_s=9.0,
    )
    key = None if keyless else "sk-test-responses"
    config = ProviderConfig(type="openai", base_url="http://fake.test/v1", timeout_s=5.0, max_retries=0)
    complete(OpenAIProvider("oa", config, key), req)
    kwargs = responses_kwargs(req, no_sampling=True, keyless=keyless, provider="oa")

    async def sdk_create() -> None:
        client = OpenAIProvider("oa", config, key)._chat._async_client()
        try:
            await client.responses.create(**kwargs)
        finally:
            await client.close()

    asyncio.run(sdk_create())
    ours, sdk = fake.bodies
    assert ours == sdk and fake.paths == ["/v1/responses", "/v1/responses"]
    assert fake.headers[0] == fake.headers[1]  # the same auth (none when keyless), timeout and SDK headers
