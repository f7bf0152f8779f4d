"""Every suite feature round-trips through our adapters (OpenAI chat and Responses, Anthropic, Gemini),
the real SDKs and the simulator: tools, a scripted tool result, a JSON schema, an image, reasoning."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from monitor.core.config import ProviderConfig
from monitor.providers import ChatRequest, Completion, get_provider
from monitor.providers.base import BadRequest, ToolSpec
from monitor.simulator import SimModel, Simulator
from tests.test_suite_tools import png

KEY = "sk-roundtrip-0123456789"
KEY_ENV = "MM_TEST_ROUNDTRIP_KEY"
FAST = {"latency_ms": 0, "latency_jitter_ms": 0, "skill": 1.0}
MODELS = [
    SimModel("gpt-sim-agent", "openai", **FAST),
    SimModel("gpt-sim-agent-pro", "openai", responses_only=True, **FAST),
    SimModel("claude-sim-agent", "anthropic", **FAST),
    SimModel("gemini-sim-agent", "gemini", **FAST),
    SimModel("gpt-sim-notools", "openai", tools=False, **FAST),
]
ADAPTERS = {
    "openai-chat": ("openai", "/v1", "gpt-sim-agent"),
    "openai-responses": ("openai", "/v1", "gpt-sim-agent-pro"),
    "anthropic": ("anthropic", "", "claude-sim-agent"),
    "gemini": ("gemini", "", "gemini-sim-agent"),
}
ORDER_TOOL = ToolSpec(
    "get_order_status",
    "Look up the shipping status of an order by its order id",
    {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
)
WHERE = [{"role": "user", "content": "Where is my order NW-48213? It is late."}]
CONTACT = {
    "type": "json_schema",
    "name": "contact",
    "strict": True,
    "schema": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
        "required": ["name", "email"],
        "additionalProperties": False,
    },
}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(models=MODELS, api_key=KEY).running() as running:
        yield running


@pytest.fixture(params=list(ADAPTERS))
def adapter(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def complete(sim: Simulator, adapter: str, monkeypatch: pytest.MonkeyPatch, **fields: Any) -> Completion:
    kind, path, model = ADAPTERS[adapter]
    monkeypatch.setenv(KEY_ENV, KEY)
    config = ProviderConfig(
        type=kind, base_url=f"{sim.base_url}{path}", api_key_env=KEY_ENV, timeout_s=30, max_retries=0
    )
    provider = get_provider(kind, config)
    request = ChatRequest(
        model=fields.pop("model", model), messages=fields.pop("messages", WHERE), max_tokens=300, **fields
    )

    async def run() -> Completion:
        try:
            return await provider.complete(request)
        finally:
            await provider.aclose()

    return asyncio.run(run())


def test_a_tool_is_called_with_the_arguments_from_the_request(
    sim: Simulator, adapter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = complete(sim, adapter, monkeypatch, tools=(ORDER_TOOL,), tool_choice="auto")
    assert answer.outcome == "tool_calls"
    [call] = answer.tool_calls
    assert (call.name, json.loads(call.arguments)) == ("get_order_status", {"order_id": "NW-48213"})
    assert call.id


def test_a_scripted_tool_result_is_read_and_answered_in_text(
    sim: Simulator, adapter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = complete(sim, adapter, monkeypatch, tools=(ORDER_TOOL,))
    [call] = first.tool_calls
    conversation = [
        *WHERE,
        {
            "role": "assistant",
            "content": first.text,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": call.id,
            "content": json.dumps({"status": "shipped", "carrier": "UPS"}),
        },
    ]
    answer = complete(sim, adapter, monkeypatch, tools=(ORDER_TOOL,), messages=conversation)
    assert answer.outcome == "stop" and not answer.tool_calls
    assert "shipped" in answer.text


def test_tool_choice_none_answers_in_text(
    sim: Simulator, adapter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = complete(sim, adapter, monkeypatch, tools=(ORDER_TOOL,), tool_choice="none")
    assert not answer.tool_calls and answer.text


def test_a_json_schema_answer_is_json_that_matches_it(
    sim: Simulator, adapter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = [
        {
            "role": "user",
            "content": "Hi, this is Dana Whitfield, dana.whitfield@example.com. Save my contact.",
        }
    ]
    answer = complete(sim, adapter, monkeypatch, messages=message, response_format=CONTACT)
    value = json.loads(answer.text)
    jsonschema.validate(value, CONTACT["schema"])
    assert value["email"] == "dana.whitfield@example.com"


def test_an_image_is_seen(sim: Simulator, adapter: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    url = "data:image/png;base64," + base64.b64encode(png((250, 10, 10))).decode()
    message = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What colour is this image?"},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]
    answer = complete(sim, adapter, monkeypatch, messages=message)
    assert "red" in answer.text.lower()


def test_reasoning_params_are_accepted(sim: Simulator, adapter: str, monkeypatch: pytest.MonkeyPatch) -> None:
    answer = complete(sim, adapter, monkeypatch, extra={"thinking_budget": 2048})
    assert answer.outcome == "stop"


def test_a_model_without_tools_is_a_bad_request_not_a_plain_answer(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(BadRequest):
        complete(sim, "openai-chat", monkeypatch, model="gpt-sim-notools", tools=(ORDER_TOOL,))
