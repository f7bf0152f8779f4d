"""Structured outputs in the simulator: chat `response_format`, Responses `text.format`, Anthropic
`output_config.format` and Gemini's compatible endpoint answer JSON only, matching the schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import jsonschema
import openai
import pytest
import requests
from anthropic.types import Message
from openai.types.responses import Response

from monitor.simulator import SimModel, Simulator
from monitor.simulator.agent import respond
from monitor.simulator.conversation import Extras
from monitor.simulator.prompt import Prompt
from tests.test_simulator_sdk_types import strict

KEY = "sim-structured-key"
FAST = {"latency_ms": 0, "latency_jitter_ms": 0}
MODELS = [
    SimModel("gpt-sim-json", "openai", skill=1.0, **FAST),
    SimModel("gpt-sim-nojson", "openai", structured_output=False, **FAST),
    SimModel("claude-sim-json", "anthropic", skill=1.0, **FAST),
    SimModel("claude-sim-nojson", "anthropic", structured_output=False, **FAST),
    SimModel("gemini-sim-json", "gemini", skill=1.0, **FAST),
]
CONTACT = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "email": {"type": "string"},
        "order_id": {"type": "string"},
        "priority": {"type": "string", "enum": ["low", "normal", "urgent"]},
        "quantity": {"type": "integer"},
    },
    "required": ["name", "email", "order_id", "priority", "quantity"],
    "additionalProperties": False,
}
MESSAGE = (
    "Hi, my name is Dana Whitfield (dana.w@example.com). Order ORD-48213 is missing 2 Blue Mugs. "
    "This is urgent!"
)
EXPECTED = {
    "name": "Dana Whitfield",
    "email": "dana.w@example.com",
    "order_id": "ORD-48213",
    "priority": "urgent",
    "quantity": 2,
}
CHAT_FORMAT = {"type": "json_schema", "json_schema": {"name": "contact", "schema": CONTACT, "strict": True}}


@pytest.fixture
def sim(make_simulator: Callable[..., Simulator]) -> Simulator:
    return make_simulator(api_key=KEY, models=MODELS)


def chat_client(sim: Simulator, path: str = "/v1") -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url=sim.base_url + path, max_retries=0, timeout=30)


def test_chat_json_schema_answers_the_schema_filled_from_the_message(sim: Simulator) -> None:
    for path, model in (("/v1", "gpt-sim-json"), ("/v1beta/openai/", "gemini-sim-json")):
        completion = chat_client(sim, path).chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": MESSAGE}],
            response_format=CHAT_FORMAT,  # type: ignore[arg-type]
        )
        answer = json.loads(completion.choices[0].message.content or "")
        jsonschema.validate(answer, CONTACT)
        assert answer == EXPECTED


def test_chat_json_object_answers_json_only(sim: Simulator) -> None:
    completion = chat_client(sim).chat.completions.create(
        model="gpt-sim-json",
        messages=[{"role": "user", "content": "What is the capital of France? Answer in JSON."}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(completion.choices[0].message.content or ""), dict)


def test_an_answer_key_holds_the_solved_answer_in_the_schemas_type(sim: Simulator) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}
    completion = chat_client(sim).chat.completions.create(
        model="gpt-sim-json",
        messages=[{"role": "user", "content": "What is 17 * 3?"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "math", "schema": schema, "strict": True},
        },
    )
    assert json.loads(completion.choices[0].message.content or "") == {"answer": 51}


def test_responses_text_format_answers_json_and_echoes_the_format(sim: Simulator) -> None:
    body = {
        "model": "gpt-sim-json",
        "input": MESSAGE,
        "text": {"format": {"type": "json_schema", "name": "contact", "schema": CONTACT, "strict": True}},
    }
    raw = requests.post(
        f"{sim.base_url}/v1/responses", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=30
    )
    response = strict(Response, raw.text)
    assert isinstance(response, Response)
    assert json.loads(response.output_text) == EXPECTED
    assert response.text is not None and response.text.format.type == "json_schema"


def test_anthropic_output_config_format_answers_json(sim: Simulator) -> None:
    raw = requests.post(
        f"{sim.base_url}/v1/messages",
        json={
            "model": "claude-sim-json",
            "max_tokens": 400,
            "messages": [{"role": "user", "content": MESSAGE}],
            "output_config": {"format": {"type": "json_schema", "schema": CONTACT}},
        },
        headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        timeout=30,
    )
    message = strict(Message, raw.text)
    assert isinstance(message, Message)
    text = "".join(block.text for block in message.content if block.type == "text")
    assert json.loads(text) == EXPECTED


def test_a_model_without_structured_output_answers_400(sim: Simulator) -> None:
    with pytest.raises(openai.BadRequestError) as chat_error:
        chat_client(sim).chat.completions.create(
            model="gpt-sim-nojson",
            messages=[{"role": "user", "content": MESSAGE}],
            response_format=CHAT_FORMAT,  # type: ignore[arg-type]
        )
    assert "'response_format' of type 'json_schema' is not supported" in chat_error.value.message
    client = anthropic.Anthropic(api_key=KEY, base_url=sim.base_url, max_retries=0, timeout=30)
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(
            model="claude-sim-nojson",
            max_tokens=100,
            messages=[{"role": "user", "content": MESSAGE}],
            output_config={"format": {"type": "json_schema", "schema": CONTACT}},
        )


def _answers(skill: float, strict_schema: bool) -> list[dict[str, Any]]:
    model = SimModel(f"gpt-sim-{skill}", skill=skill)
    fmt = {"type": "json_schema", "name": "contact", "schema": CONTACT, "strict": strict_schema}
    answers = []
    for i in range(60):
        prompt = Prompt("", (("user", MESSAGE.replace("48213", str(48213 + i))),))
        text, calls = respond(model, prompt, Extras(response_format=fmt))
        assert not calls
        answers.append(json.loads(text))
    return answers


def test_skill_decides_mistakes_and_a_strict_schema_always_validates() -> None:
    def right(answers: list[dict[str, Any]]) -> int:
        return sum(a == {**EXPECTED, "order_id": f"ORD-{48213 + i}"} for i, a in enumerate(answers))

    weak_strict = _answers(0.2, True)
    for answer in weak_strict:
        jsonschema.validate(answer, CONTACT)
    weak_loose = _answers(0.2, False)
    assert any(set(answer) != set(CONTACT["properties"]) for answer in weak_loose)  # type: ignore[arg-type]
    assert right(_answers(1.0, True)) == 60
    assert right(weak_strict) < right(_answers(0.85, True)) < 60
