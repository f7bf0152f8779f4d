"""The simulator calls tools like the real APIs: OpenAI chat and Responses, Anthropic and Gemini's
OpenAI-compatible endpoint, through the real SDKs, in the SDKs' own types; skill decides mistakes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
import requests
from anthropic.types import Message
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from monitor.simulator import SimModel, Simulator
from monitor.simulator.agent import respond
from monitor.simulator.answers import answer
from monitor.simulator.conversation import Extras, Tool
from monitor.simulator.prompt import Prompt
from tests.test_simulator_sdk_types import strict

KEY = "sim-tools-key"
FAST = {"latency_ms": 0, "latency_jitter_ms": 0}
MODELS = [
    SimModel("gpt-sim-agent", "openai", skill=1.0, **FAST),
    SimModel("gpt-sim-notools", "openai", tools=False, **FAST),
    SimModel("claude-sim-agent", "anthropic", skill=1.0, **FAST),
    SimModel("claude-sim-notools", "anthropic", tools=False, **FAST),
    SimModel("gemini-sim-agent", "gemini", skill=1.0, **FAST),
    SimModel("gemini-sim-notools", "gemini", tools=False, **FAST),
]
FUNCTIONS: list[dict[str, Any]] = [
    {
        "name": "lookup_order",
        "description": "Look up an order's status by its id",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    },
    {
        "name": "refund",
        "description": "Refund an order to the customer",
        "parameters": {
            "type": "object",
            "properties": {
                "order_id": {"type": "string"},
                "amount": {"type": "number"},
                "reason": {"type": "string", "enum": ["damaged", "late", "unwanted"]},
            },
            "required": ["order_id", "reason"],
        },
    },
    {
        "name": "escalate",
        "description": "Hand the conversation to a human manager",
        "parameters": {
            "type": "object",
            "properties": {"summary": {"type": "string"}},
            "required": ["summary"],
        },
    },
]
CHAT_TOOLS = [{"type": "function", "function": f} for f in FUNCTIONS]
RESPONSES_TOOLS = [{"type": "function", **f} for f in FUNCTIONS]
ANTHROPIC_TOOLS = [
    {"name": f["name"], "description": f["description"], "input_schema": f["parameters"]} for f in FUNCTIONS
]
WHERE = "Where is my order A1234?"
RESULT = json.dumps({"status": "shipped", "carrier": "UPS"})


@pytest.fixture
def sim(make_simulator: Callable[..., Simulator]) -> Simulator:
    return make_simulator(api_key=KEY, models=MODELS)


def chat_client(sim: Simulator, path: str = "/v1") -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url=sim.base_url + path, max_retries=0, timeout=30)


def claude(sim: Simulator) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=KEY, base_url=sim.base_url, max_retries=0, timeout=30)


def test_chat_answers_a_tool_call_with_the_right_name_and_arguments(sim: Simulator) -> None:
    body = {"model": "gpt-sim-agent", "messages": [{"role": "user", "content": WHERE}], "tools": CHAT_TOOLS}
    raw = requests.post(
        f"{sim.base_url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    )
    completion = strict(ChatCompletion, raw.text)
    assert isinstance(completion, ChatCompletion)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert len(calls) == 1 and calls[0].type == "function"
    assert calls[0].function.name == "lookup_order"  # type: ignore[union-attr]
    assert json.loads(calls[0].function.arguments) == {"order_id": "A1234"}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("request_text", "name", "arguments"),
    [
        (
            "My order #5521 arrived damaged, I want a refund of $25.",
            "refund",
            {"order_id": "5521", "amount": 25, "reason": "damaged"},
        ),
        (
            "I want to speak to a manager right now!",
            "escalate",
            {"summary": "I want to speak to a manager right now!"},
        ),
    ],
)
def test_the_tool_that_fits_the_request_is_called_with_arguments_from_its_text(
    sim: Simulator, request_text: str, name: str, arguments: dict[str, Any]
) -> None:
    completion = chat_client(sim).chat.completions.create(
        model="gpt-sim-agent", messages=[{"role": "user", "content": request_text}], tools=CHAT_TOOLS
    )
    calls = completion.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == [name]  # type: ignore[union-attr]
    assert json.loads(calls[0].function.arguments) == arguments  # type: ignore[union-attr]


def test_a_request_no_tool_fits_is_answered_in_text(sim: Simulator) -> None:
    completion = chat_client(sim).chat.completions.create(
        model="gpt-sim-agent", messages=[{"role": "user", "content": "What is 17 * 3?"}], tools=CHAT_TOOLS
    )
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.tool_calls is None
    assert "51" in (completion.choices[0].message.content or "")


def test_chat_tool_choice_none_required_and_named(sim: Simulator) -> None:
    client = chat_client(sim)

    def call(text: str, choice: Any) -> Any:
        return client.chat.completions.create(
            model="gpt-sim-agent",
            messages=[{"role": "user", "content": text}],
            tools=CHAT_TOOLS,
            tool_choice=choice,
        ).choices[0]

    assert call(WHERE, "none").message.tool_calls is None
    forced = call("What is 17 * 3?", "required")
    assert forced.finish_reason == "tool_calls" and forced.message.tool_calls
    named = call(WHERE, {"type": "function", "function": {"name": "escalate"}}).message.tool_calls or []
    assert [c.function.name for c in named] == ["escalate"]  # type: ignore[union-attr]


def test_chat_conversation_with_a_tool_result_is_answered_in_text_using_it(sim: Simulator) -> None:
    messages: list[Any] = [
        {"role": "user", "content": WHERE},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup_order", "arguments": '{"order_id": "A1234"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": RESULT},
    ]
    for path, model in (("/v1", "gpt-sim-agent"), ("/v1beta/openai/", "gemini-sim-agent")):
        choice = (
            chat_client(sim, path)
            .chat.completions.create(model=model, messages=messages, tools=CHAT_TOOLS)
            .choices[0]
        )
        assert choice.finish_reason == "stop" and choice.message.tool_calls is None
        assert "shipped" in (choice.message.content or "") and "UPS" in (choice.message.content or "")


def test_gemini_compatible_chat_calls_tools(sim: Simulator) -> None:
    raw = requests.post(
        f"{sim.base_url}/v1beta/openai/chat/completions",
        json={
            "model": "gemini-sim-agent",
            "messages": [{"role": "user", "content": WHERE}],
            "tools": CHAT_TOOLS,
        },
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    )
    choice = strict(ChatCompletion, raw.text).choices[0]  # type: ignore[attr-defined]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls[0].function.name == "lookup_order"


def test_responses_answers_function_call_items_and_uses_their_output(sim: Simulator) -> None:
    body = {"model": "gpt-sim-agent", "input": WHERE, "tools": RESPONSES_TOOLS, "tool_choice": "auto"}
    raw = requests.post(
        f"{sim.base_url}/v1/responses", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=30
    )
    response = strict(Response, raw.text)
    assert isinstance(response, Response)
    calls = [item for item in response.output if item.type == "function_call"]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [("lookup_order", {"order_id": "A1234"})]
    assert [t.name for t in response.tools] == ["lookup_order", "refund", "escalate"]  # type: ignore[union-attr]
    follow = chat_client(sim).responses.create(
        model="gpt-sim-agent",
        tools=RESPONSES_TOOLS,  # type: ignore[arg-type]
        input=[
            {"role": "user", "content": WHERE},
            {
                "type": "function_call",
                "call_id": calls[0].call_id,
                "name": calls[0].name,
                "arguments": calls[0].arguments,
            },
            {"type": "function_call_output", "call_id": calls[0].call_id, "output": RESULT},
        ],
    )
    assert not [item for item in follow.output if item.type == "function_call"]
    assert "shipped" in follow.output_text


def test_responses_named_tool_choice_is_echoed_and_obeyed(sim: Simulator) -> None:
    response = chat_client(sim).responses.create(
        model="gpt-sim-agent",
        input=WHERE,
        tools=RESPONSES_TOOLS,  # type: ignore[arg-type]
        tool_choice={"type": "function", "name": "escalate"},
    )
    assert [item.name for item in response.output if item.type == "function_call"] == ["escalate"]
    assert response.tool_choice.name == "escalate"  # type: ignore[union-attr]


def test_anthropic_answers_tool_use_blocks_and_uses_tool_results(sim: Simulator) -> None:
    raw = requests.post(
        f"{sim.base_url}/v1/messages",
        json={
            "model": "claude-sim-agent",
            "max_tokens": 300,
            "messages": [{"role": "user", "content": WHERE}],
            "tools": ANTHROPIC_TOOLS,
        },
        headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        timeout=30,
    )
    message = strict(Message, raw.text)
    assert isinstance(message, Message) and message.stop_reason == "tool_use"
    uses = [block for block in message.content if block.type == "tool_use"]
    assert [(u.name, u.input) for u in uses] == [("lookup_order", {"order_id": "A1234"})]
    follow = claude(sim).messages.create(
        model="claude-sim-agent",
        max_tokens=300,
        tools=ANTHROPIC_TOOLS,  # type: ignore[arg-type]
        messages=[
            {"role": "user", "content": WHERE},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": uses[0].id, "name": uses[0].name, "input": uses[0].input}
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": RESULT}],
            },
        ],
    )
    assert follow.stop_reason == "end_turn"
    assert "shipped" in "".join(block.text for block in follow.content if block.type == "text")


def test_anthropic_tool_choice_any_tool_and_none(sim: Simulator) -> None:
    def call(text: str, choice: dict[str, Any]) -> Message:
        return claude(sim).messages.create(
            model="claude-sim-agent",
            max_tokens=300,
            tools=ANTHROPIC_TOOLS,  # type: ignore[arg-type]
            tool_choice=choice,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": text}],
        )

    assert call("What is 17 * 3?", {"type": "any"}).stop_reason == "tool_use"
    named = call(WHERE, {"type": "tool", "name": "refund"})
    assert [b.name for b in named.content if b.type == "tool_use"] == ["refund"]
    assert call(WHERE, {"type": "none"}).stop_reason == "end_turn"


def test_a_model_without_tools_answers_each_providers_400(sim: Simulator) -> None:
    with pytest.raises(openai.BadRequestError) as chat_error:
        chat_client(sim).chat.completions.create(
            model="gpt-sim-notools", messages=[{"role": "user", "content": WHERE}], tools=CHAT_TOOLS
        )
    assert "tools is not supported in this model" in chat_error.value.message
    with pytest.raises(openai.BadRequestError):
        chat_client(sim).responses.create(model="gpt-sim-notools", input=WHERE, tools=RESPONSES_TOOLS)  # type: ignore[arg-type]
    with pytest.raises(anthropic.BadRequestError) as claude_error:
        claude(sim).messages.create(
            model="claude-sim-notools",
            max_tokens=100,
            tools=ANTHROPIC_TOOLS,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": WHERE}],
        )
    assert "does not support tool use" in str(claude_error.value)
    with pytest.raises(openai.BadRequestError) as gemini_error:
        chat_client(sim, "/v1beta/openai/").chat.completions.create(
            model="gemini-sim-notools", messages=[{"role": "user", "content": WHERE}], tools=CHAT_TOOLS
        )
    assert "Function calling is not enabled for models/gemini-sim-notools" in gemini_error.value.response.text
    plain = chat_client(sim).chat.completions.create(
        model="gpt-sim-notools", messages=[{"role": "user", "content": WHERE}]
    )
    assert plain.choices[0].message.content


def _score(skill: float) -> tuple[int, set[str]]:
    """Right calls out of 60 requests for a model of `skill`, and the kinds of mistake seen."""
    tools = [Tool(f["name"], f["description"], f["parameters"]) for f in FUNCTIONS]
    model = SimModel(f"gpt-sim-{skill}", skill=skill)
    right, kinds = 0, set()
    for i in range(60):
        prompt = Prompt("", (("user", f"Where is my order A{1000 + i}?"),))
        _, calls = respond(model, prompt, Extras(tools=tools))
        expected = (("lookup_order", json.dumps({"order_id": f"A{1000 + i}"})),)
        if calls == expected:
            right += 1
        elif not calls:
            kinds.add("text")
        elif len(calls) == 2:
            kinds.add("twice")
        elif calls[0][0] != "lookup_order":
            kinds.add("wrong_tool")
        else:
            arguments = json.loads(calls[0][1])
            kinds.add("missing" if not arguments else "extra" if len(arguments) > 1 else "wrong_value")
    return right, kinds


def test_better_models_call_tools_right_more_often_and_mistakes_are_realistic() -> None:
    strong, _ = _score(1.0)
    good, _ = _score(0.85)
    weak, kinds = _score(0.2)
    assert strong == 60 and weak < good < strong
    assert kinds == {"text", "twice", "wrong_tool", "missing", "extra", "wrong_value"}
    assert _score(0.85) == _score(0.85)


def test_a_strict_tool_keeps_its_schema_even_when_the_model_is_wrong() -> None:
    schema = {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}
    tool = Tool("lookup_order", "Look up an order", schema, strict=True)
    model = SimModel("gpt-sim-wrong", skill=0.0)
    for i in range(30):
        prompt = Prompt("", (("user", f"Where is order B{2000 + i}?"),))
        _, calls = respond(model, prompt, Extras(tools=[tool], tool_choice="required"))
        assert calls and all(set(json.loads(arguments)) == {"order_id"} for _, arguments in calls)


def test_a_plain_prompt_is_answered_exactly_as_before() -> None:
    model = SimModel("gpt-sim-plain", skill=0.7)
    prompt = Prompt("", (("user", "What is the capital of France?"),))
    assert respond(model, prompt, Extras()) == (answer(model, prompt), ())
