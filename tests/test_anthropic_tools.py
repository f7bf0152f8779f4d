"""The Anthropic adapter's tools, structured output, images, conversations and thinking, checked against
the anthropic SDK's own param TypedDicts (requests) and `anthropic.types.Message` (answers)."""

from __future__ import annotations

import json
from types import NoneType
from typing import Any, Literal, Required, Union, get_args, get_origin, get_type_hints

import pytest
from anthropic.types import (
    AssistantMessageParam,
    Base64ImageSourceParam,
    ImageBlockParam,
    JSONOutputFormatParam,
    Message,
    OutputConfigParam,
    TextBlockParam,
    ThinkingConfigEnabledParam,
    ToolChoiceAnyParam,
    ToolChoiceAutoParam,
    ToolChoiceNoneParam,
    ToolChoiceToolParam,
    ToolParam,
    ToolResultBlockParam,
    ToolUseBlockParam,
    URLImageSourceParam,
    UserMessageParam,
)
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming

from monitor.core.config import ProviderConfig
from monitor.providers import BadRequest, BadResponse, ChatRequest
from monitor.providers.anthropic import AnthropicProvider
from monitor.providers.anthropic_wire import completion, request_kwargs
from monitor.providers.base import ToolCall, ToolSpec

ORDER = ToolSpec(
    name="get_order",
    description="Look up an order by its id",
    parameters={"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
    strict=True,
)
REFUND = ToolSpec(name="refund", description="", parameters={"properties": {"order_id": {"type": "string"}}})
USER = {"role": "user", "content": "Where is order A1234?"}
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
BLOCKS = {
    "text": TextBlockParam,
    "image": ImageBlockParam,
    "tool_use": ToolUseBlockParam,
    "tool_result": ToolResultBlockParam,
}
"""The block types a translated turn may hold, each with its SDK param type."""
_TRANSPORT = {"extra_body", "extra_headers", "timeout"}


def conforms(value: Any, typed: Any) -> None:
    """`value` has every Required key of the TypedDict `typed`, no key it lacks, and its Literal values.

    The SDK's modules postpone annotations, so `__required_keys__` is empty: Required is read from the hints.
    """
    assert isinstance(value, dict)
    hints = get_type_hints(typed, include_extras=True)
    required = {key for key, hint in hints.items() if get_origin(hint) is Required}
    assert required <= set(value), f"{typed.__name__} misses {required - set(value)}"
    assert set(value) <= set(hints), f"{typed.__name__} has no {set(value) - set(hints)}"
    for key, hint in get_type_hints(typed).items():
        allowed = _literals(hint)
        if key in value and allowed:
            assert value[key] in allowed, f"{typed.__name__}.{key} = {value[key]!r}"


def _literals(hint: Any) -> tuple[Any, ...]:
    """The values a Literal, or a Union of Literals and None, allows; () (anything) for any other hint."""
    if get_origin(hint) is Literal:
        return get_args(hint)
    if get_origin(hint) is not Union:
        return ()
    allowed: list[Any] = []
    for arg in get_args(hint):
        values = (None,) if arg is NoneType else _literals(arg)
        if not values:
            return ()
        allowed.extend(values)
    return tuple(allowed)


def test_the_conformance_check_catches_wrong_shapes() -> None:
    wrong = [
        ({"type": "bogus"}, ToolChoiceAutoParam),
        ({"type": "base64", "media_type": "image/tiff", "data": "x"}, Base64ImageSourceParam),
        ({"name": "x", "input_schema": {"type": "object"}, "parameters": {}}, ToolParam),
        ({"name": "x"}, ToolParam),
        ({"effort": "minimal"}, OutputConfigParam),
    ]
    for value, typed in wrong:
        with pytest.raises(AssertionError):
            conforms(value, typed)
    conforms({"effort": None}, OutputConfigParam)


def wire(**kw: Any) -> dict[str, Any]:
    kwargs = request_kwargs(
        ChatRequest(model="claude-sim-a", **{"messages": [USER], **kw}), provider="claude"
    )
    conforms({k: v for k, v in kwargs.items() if k not in _TRANSPORT}, MessageCreateParamsNonStreaming)
    for turn in kwargs["messages"]:
        conforms(turn, UserMessageParam if turn["role"] == "user" else AssistantMessageParam)
        if isinstance(turn["content"], list):
            for block in turn["content"]:
                conforms(block, BLOCKS[block["type"]])
    return kwargs


def bad_request(**kw: Any) -> str:
    with pytest.raises(BadRequest) as caught:
        request_kwargs(ChatRequest(model="claude-sim-a", **{"messages": [USER], **kw}), provider="claude")
    assert caught.value.kind == "bad_request"
    return str(caught.value)


def call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def test_tools_carry_their_schema_as_input_schema_and_strict_only_when_set() -> None:
    tools = wire(tools=(ORDER, REFUND))["tools"]
    for tool in tools:
        conforms(tool, ToolParam)
    assert tools[0] == {
        "name": "get_order",
        "description": "Look up an order by its id",
        "input_schema": ORDER.parameters,
        "strict": True,
    }
    assert tools[1] == {"name": "refund", "input_schema": {"type": "object", **REFUND.parameters}}
    assert "tool_choice" not in wire(tools=(ORDER,))


@pytest.mark.parametrize(
    ("choice", "expected", "typed"),
    [
        ("auto", {"type": "auto"}, ToolChoiceAutoParam),
        ("required", {"type": "any"}, ToolChoiceAnyParam),
        ("none", {"type": "none"}, ToolChoiceNoneParam),
        ("refund", {"type": "tool", "name": "refund"}, ToolChoiceToolParam),
    ],
)
def test_each_tool_choice_is_its_messages_form(choice: str, expected: dict[str, str], typed: Any) -> None:
    sent = wire(tools=(ORDER, REFUND), tool_choice=choice)["tool_choice"]
    conforms(sent, typed)
    assert sent == expected


def test_a_tool_choice_the_tools_cannot_meet_is_a_bad_request() -> None:
    assert "'lookup'" in bad_request(tools=(ORDER,), tool_choice="lookup")
    assert "needs tools" in bad_request(tool_choice="required")
    assert "tool_choice" not in wire(tool_choice="none") and "tools" not in wire(tool_choice="auto")
    assert "object schema" in bad_request(tools=(ToolSpec("f", "", {"type": "array"}),))


def test_a_json_schema_response_format_is_native_structured_output_merged_with_effort() -> None:
    schema = {"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]}
    sent = wire(
        response_format={"type": "json_schema", "name": "contact", "schema": schema, "strict": True},
        extra={"reasoning_effort": "low"},
    )
    config = sent["extra_body"]["output_config"]
    conforms(config, OutputConfigParam)
    conforms(config["format"], JSONOutputFormatParam)
    assert config == {"effort": "low", "format": {"type": "json_schema", "schema": schema}}
    assert "extra_headers" not in sent


def test_json_object_is_an_object_schema_and_other_formats_are_bad_requests() -> None:
    sent = wire(response_format={"type": "json_object"})
    assert sent["extra_body"] == {
        "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}}
    }
    assert "response_format" in bad_request(response_format={"type": "text"})
    assert "response_format" in bad_request(response_format={"type": "json_schema", "name": "x"})


def test_images_become_base64_or_url_sources() -> None:
    parts = [
        {"type": "text", "text": "What colour is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image_url", "image_url": {"url": "data:image/jpg;base64,/9j/4AAQ"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/red.png"}},
    ]
    (turn,) = wire(messages=[{"role": "user", "content": parts}])["messages"]
    text, png, jpeg, remote = turn["content"]
    conforms(text, TextBlockParam)
    for block in (png, jpeg, remote):
        conforms(block, ImageBlockParam)
    conforms(png["source"], Base64ImageSourceParam)
    conforms(remote["source"], URLImageSourceParam)
    assert png["source"] == {"type": "base64", "media_type": "image/png", "data": PNG}
    assert jpeg["source"]["media_type"] == "image/jpeg"
    assert remote["source"] == {"type": "url", "url": "https://example.com/red.png"}


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("data:image/tiff;base64,AAAA", "image/tiff"),
        ("data:image/png,rawbytes", "not base64"),
        ("file:///etc/passwd", "https://"),
    ],
)
def test_an_image_messages_cannot_take_is_a_bad_request_naming_the_message(url: str, named: str) -> None:
    message = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}
    text = bad_request(messages=[{"role": "system", "content": "Look."}, message])
    assert "messages[1] (user)" in text and named in text


def test_an_unknown_content_part_is_a_bad_request() -> None:
    assert "messages[0] (user)" in bad_request(messages=[{"role": "user", "content": [{"type": "audio"}]}])


def test_system_parts_are_text_blocks_and_strings_stay_one_string() -> None:
    plain = wire(messages=[{"role": "system", "content": "A."}, {"role": "system", "content": "B."}, USER])
    assert plain["system"] == "A.\n\nB." and plain["messages"] == [USER]
    parts = [{"type": "text", "text": "Be terse."}, {"type": "text", "text": "Answer in French."}]
    sent = wire(messages=[{"role": "system", "content": "A."}, {"role": "system", "content": parts}, USER])
    for block in sent["system"]:
        conforms(block, TextBlockParam)
    assert [block["text"] for block in sent["system"]] == ["A.", "Be terse.", "Answer in French."]
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    assert "text only" in bad_request(messages=[{"role": "system", "content": [image]}, USER])


def test_developer_turns_join_the_system_prompt() -> None:
    sent = wire(messages=[{"role": "developer", "content": "Be terse."}, USER])
    assert sent["system"] == "Be terse." and sent["messages"] == [USER]


def test_a_tool_conversation_becomes_tool_use_and_one_user_turn_of_tool_results() -> None:
    messages = [
        {"role": "system", "content": "You are a support agent."},
        USER,
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                call("call_1", "get_order", '{"order_id": "A1234"}'),
                call("call_2", "refund", '{"order_id": "A1234"}'),
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "shipped"}'},
        {"role": "tool", "tool_call_id": "call_2", "content": "refunded"},
        {"role": "assistant", "content": None, "tool_calls": [call("call_3", "get_order", "")]},
        {"role": "tool", "tool_call_id": "call_3", "content": [{"type": "text", "text": "again shipped"}]},
        {"role": "user", "content": "Thanks; and now?"},
    ]
    sent = wire(messages=messages, tools=(ORDER, REFUND))
    assert sent["system"] == "You are a support agent."
    user, assistant, results, second, second_results, last = sent["messages"]
    assert user == USER and last == {"role": "user", "content": "Thanks; and now?"}
    assert assistant["role"] == "assistant"
    text, first_use, second_use = assistant["content"]
    assert text == {"type": "text", "text": "Let me look."}
    for block in (first_use, second_use, *second["content"]):
        conforms(block, ToolUseBlockParam)
    assert first_use == {
        "type": "tool_use",
        "id": "call_1",
        "name": "get_order",
        "input": {"order_id": "A1234"},
    }
    assert second["content"] == [{"type": "tool_use", "id": "call_3", "name": "get_order", "input": {}}]
    assert results["role"] == "user" and second_results["role"] == "user"
    for block in (*results["content"], *second_results["content"]):
        conforms(block, ToolResultBlockParam)
    assert results["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": '{"status": "shipped"}'},
        {"type": "tool_result", "tool_use_id": "call_2", "content": "refunded"},
    ]
    assert second_results["content"][0]["content"] == [{"type": "text", "text": "again shipped"}]


@pytest.mark.parametrize(
    ("arguments", "named"),
    [('{"order_id": "A1', "not JSON"), ('["A1234"]', "not a JSON object")],
)
def test_tool_call_arguments_that_are_not_a_json_object_are_a_bad_request(arguments: str, named: str) -> None:
    messages = [
        USER,
        {"role": "assistant", "content": "", "tool_calls": [call("call_9", "get_order", arguments)]},
    ]
    text = bad_request(messages=messages, tools=(ORDER,))
    assert "messages[1] (assistant)" in text and "'get_order'" in text and "call_9" in text and named in text


def test_a_tool_result_without_its_call_id_is_a_bad_request() -> None:
    assert "tool_call_id" in bad_request(messages=[USER, {"role": "tool", "content": "x"}])


def test_thinking_budget_is_extended_thinking_above_max_tokens_without_sampling_params() -> None:
    sent = wire(temperature=0.2, max_tokens=500, extra={"thinking_budget": 2048, "top_p": 0.9, "stop": "END"})
    conforms(sent["thinking"], ThinkingConfigEnabledParam)
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert sent["max_tokens"] == 2548
    assert sent["extra_body"] == {"stop_sequences": ["END"]}
    assert "extra_headers" not in sent
    assert wire(extra={"thinking_budget": 1024})["max_tokens"] == 2048
    assert wire(max_tokens=4000, extra={"thinking_budget": 1024})["max_tokens"] == 4000
    assert "thinking" not in wire() and "thinking_budget" in bad_request(extra={"thinking_budget": "lots"})


@pytest.mark.parametrize("choice", ["required", "get_order"])
def test_a_forced_tool_choice_with_thinking_is_sent_as_auto(choice: str) -> None:
    sent = wire(tools=(ORDER,), tool_choice=choice, extra={"thinking_budget": 2048})
    assert sent["tool_choice"] == {"type": "auto"} and sent["thinking"]["budget_tokens"] == 2048
    assert wire(tools=(ORDER,), tool_choice="none", extra={"thinking_budget": 2048})["tool_choice"] == {
        "type": "none"
    }


def test_the_provider_raises_the_bad_request_under_its_own_name() -> None:
    config = ProviderConfig(type="anthropic", base_url="http://127.0.0.1:9", api_key_env="UNUSED")
    p = AnthropicProvider("claude", config, "k")
    request = ChatRequest(model="m", messages=[USER], tools=(ORDER,), tool_choice="refund")
    with pytest.raises(BadRequest, match=r"^claude: tool_choice names 'refund'"):
        p.request_kwargs(request)


def answer(content: list[dict[str, Any]], stop_reason: str = "end_turn") -> Any:
    return Message.model_validate(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sim-a",
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5},
        }
    )


def use(block_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": block_id, "name": name, "input": arguments}


def parsed(content: list[dict[str, Any]], stop_reason: str = "end_turn") -> Any:
    return completion(answer(content, stop_reason), latency_ms=1.0, provider="claude")


def test_two_tool_use_blocks_are_two_tool_calls_in_order() -> None:
    got = parsed(
        [use("toolu_1", "get_order", {"order_id": "A1"}), use("toolu_2", "get_order", {"order_id": "B2"})],
        "tool_use",
    )
    assert got.tool_calls == (
        ToolCall("toolu_1", "get_order", '{"order_id": "A1"}'),
        ToolCall("toolu_2", "get_order", '{"order_id": "B2"}'),
    )
    assert got.text == "" and got.outcome == "tool_calls" and got.refusal is None
    assert got.input_tokens == 10 and got.output_tokens == 5


def test_text_with_a_tool_use_keeps_both_apart() -> None:
    nested = {"order": {"id": "A1", "lines": [1, 2]}, "note": "café"}
    got = parsed([{"type": "text", "text": "Checking."}, use("toolu_1", "refund", nested)], "tool_use")
    assert got.text == "Checking."
    (tool_call,) = got.tool_calls
    assert tool_call.name == "refund" and json.loads(tool_call.arguments) == nested


def test_thinking_blocks_are_never_text() -> None:
    got = parsed(
        [
            {"type": "thinking", "thinking": "The user wants 5.", "signature": "sig"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "5"},
            {"type": "text", "text": "!"},
        ]
    )
    assert got.text == "5!" and got.tool_calls == () and got.outcome == "stop"


def test_an_answer_without_content_blocks_is_a_bad_response() -> None:
    class Empty:
        content = None

    with pytest.raises(BadResponse):
        completion(Empty(), latency_ms=1.0, provider="claude")
