"""Every simulator response body parses, strictly, as the installed openai and anthropic SDKs' own types.

Strict validation (no coercion, every required field present) plus "no field the SDK does not know"
keeps the simulator from drifting away from the real wire formats.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pydantic
import pytest
import requests
from anthropic.types import Message, ModelInfo
from anthropic.types.shared import ErrorResponse
from openai.types import Model
from openai.types.chat import ChatCompletion
from openai.types.responses import Response
from openai.types.shared import ErrorObject

from monitor.simulator import Fault, SimModel, Simulator

KEY = "sim-sdk-types-key"
MODELS = [
    SimModel("gpt-sim-base", "openai"),
    SimModel("o9-sim", "openai", reasoning=True),
    SimModel("gpt-sim-pro", "openai", reasoning=True, responses_only=True),
    SimModel("gpt-sim-old", "openai", shutdown_date="2027-01-01"),
    SimModel("claude-sim-a", "anthropic", created=datetime(2026, 1, 2, tzinfo=UTC)),
    SimModel("claude-sim-think", "anthropic", reasoning=True),
    SimModel("claude-sim-legacy", "anthropic", lifecycle="deprecated", shutdown_date="2027-03-01"),
    SimModel("gemini-sim-flash", "gemini"),
]
OPENAI = {"Authorization": f"Bearer {KEY}"}
ANTHROPIC = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
CHAT = {"model": "gpt-sim-base", "messages": [{"role": "user", "content": "What is 2 + 3?"}]}
MESSAGE = {
    "model": "claude-sim-a",
    "max_tokens": 200,
    "messages": [{"role": "user", "content": "What is 2 + 3?"}],
}
RESPONSES = {"model": "gpt-sim-base", "input": "What is 2 + 3?", "max_output_tokens": 100}
OPENAI_OUTCOMES = [None, "refusal", "content_filter", "context_window"]
ANTHROPIC_OUTCOMES = [None, "refusal", "pause_turn", "context_window"]


def strict(kind: type[pydantic.BaseModel], text: str) -> pydantic.BaseModel:
    """`text` validated strictly as `kind`, with no field left over that the SDK type does not declare."""
    parsed = kind.model_validate_json(text, strict=True)
    assert_no_extra(parsed, kind.__name__)
    return parsed


def assert_no_extra(value: Any, where: str) -> None:
    if isinstance(value, pydantic.BaseModel):
        assert not value.model_extra, f"{where}: fields the SDK does not know: {sorted(value.model_extra)}"
        for name in type(value).model_fields:
            assert_no_extra(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_no_extra(item, f"{where}[{index}]")


def fault_sim(make_simulator: Callable[..., Simulator], kind: str | None, provider: str) -> Simulator:
    faults = [Fault(kind, provider=provider)] if kind else []
    return make_simulator(api_key=KEY, models=MODELS, faults=faults)


def test_openai_model_list_and_model_are_sdk_models(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    body = requests.get(f"{sim.base_url}/v1/models", headers=OPENAI, timeout=30)
    assert body.status_code == 200 and body.json()["object"] == "list"
    for item in body.json()["data"]:
        strict(Model, json.dumps(item))
    one = requests.get(f"{sim.base_url}/v1/models/gpt-sim-old", headers=OPENAI, timeout=30)
    assert strict(Model, one.text).shutdown_date == "2027-01-01"  # type: ignore[attr-defined]


@pytest.mark.parametrize("outcome", OPENAI_OUTCOMES)
def test_openai_chat_completions_are_sdk_chat_completions(
    make_simulator: Callable[..., Simulator], outcome: str | None
) -> None:
    sim = fault_sim(make_simulator, outcome, "openai")
    response = requests.post(f"{sim.base_url}/v1/chat/completions", json=CHAT, headers=OPENAI, timeout=30)
    assert response.status_code == 200
    strict(ChatCompletion, response.text)


@pytest.mark.parametrize("outcome", OPENAI_OUTCOMES)
@pytest.mark.parametrize("model", ["gpt-sim-base", "gpt-sim-pro"])
def test_openai_responses_are_sdk_responses(
    make_simulator: Callable[..., Simulator], outcome: str | None, model: str
) -> None:
    sim = fault_sim(make_simulator, outcome, "openai")
    body = {**RESPONSES, "model": model}
    response = requests.post(f"{sim.base_url}/v1/responses", json=body, headers=OPENAI, timeout=30)
    assert response.status_code == 200
    parsed = strict(Response, response.text)
    assert parsed.status == ("completed" if outcome in (None, "refusal") else "incomplete")  # type: ignore[attr-defined]


def test_a_responses_only_model_on_chat_completions_is_the_sdk_404(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    body = {**CHAT, "model": "gpt-sim-pro"}
    response = requests.post(f"{sim.base_url}/v1/chat/completions", json=body, headers=OPENAI, timeout=30)
    assert response.status_code == 404
    error = strict(ErrorObject, json.dumps(response.json()["error"]))
    assert error.message == (  # type: ignore[attr-defined]
        "This model is only supported in v1/responses and not in v1/chat/completions."
    )
    assert error.param == "model" and error.code is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("outcome", OPENAI_OUTCOMES)
def test_gemini_compatible_chat_completions_are_sdk_chat_completions(
    make_simulator: Callable[..., Simulator], outcome: str | None
) -> None:
    sim = fault_sim(make_simulator, outcome, "gemini")
    body = {**CHAT, "model": "gemini-sim-flash"}
    response = requests.post(
        f"{sim.base_url}/v1beta/openai/chat/completions", json=body, headers=OPENAI, timeout=30
    )
    assert response.status_code == 200
    strict(ChatCompletion, response.text)


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (None, 401),
        ("rate_limit", 429),
        ("quota_daily", 429),
        ("spend_limit", 429),
        ("server_error", 500),
        ("overloaded", 503),
        ("loading", 503),
    ],
)
def test_openai_error_bodies_are_sdk_error_objects(
    make_simulator: Callable[..., Simulator], fault: str | None, status: int
) -> None:
    sim = fault_sim(make_simulator, fault, "openai")
    headers = OPENAI if fault else {"Authorization": "Bearer wrong"}
    response = requests.post(f"{sim.base_url}/v1/chat/completions", json=CHAT, headers=headers, timeout=30)
    assert response.status_code == status
    error = response.json()["error"]
    if fault == "loading":
        error = {**error, "code": str(error["code"])}  # llama.cpp's int code; the SDK reads any type
    strict(ErrorObject, json.dumps(error))


def test_openai_400_and_404_bodies_are_sdk_error_objects(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    rejected = requests.post(
        f"{sim.base_url}/v1/chat/completions",
        json={**CHAT, "model": "o9-sim", "max_tokens": 10},
        headers=OPENAI,
        timeout=30,
    )
    missing = requests.post(
        f"{sim.base_url}/v1/chat/completions", json={**CHAT, "model": "nope"}, headers=OPENAI, timeout=30
    )
    for response, status in ((rejected, 400), (missing, 404)):
        assert response.status_code == status
        strict(ErrorObject, json.dumps(response.json()["error"]))


def test_anthropic_model_pages_and_model_are_sdk_model_infos(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    page = requests.get(f"{sim.base_url}/v1/models", params={"limit": 1}, headers=ANTHROPIC, timeout=30)
    body = page.json()
    assert page.status_code == 200 and body["has_more"] is True
    assert set(body) == {"data", "has_more", "first_id", "last_id"}
    for item in body["data"]:
        info = strict(ModelInfo, json.dumps(item))
        assert info.capabilities is not None  # type: ignore[attr-defined]
    one = requests.get(f"{sim.base_url}/v1/models/claude-sim-think", headers=ANTHROPIC, timeout=30)
    thinking = strict(ModelInfo, one.text)
    assert thinking.capabilities.thinking.supported  # type: ignore[attr-defined]
    legacy = requests.get(f"{sim.base_url}/v1/models/claude-sim-legacy", headers=ANTHROPIC, timeout=30)
    assert strict(ModelInfo, legacy.text).lifecycle == "deprecated"  # type: ignore[attr-defined]


@pytest.mark.parametrize("outcome", ANTHROPIC_OUTCOMES)
def test_anthropic_messages_are_sdk_messages(
    make_simulator: Callable[..., Simulator], outcome: str | None
) -> None:
    sim = fault_sim(make_simulator, outcome, "anthropic")
    response = requests.post(f"{sim.base_url}/v1/messages", json=MESSAGE, headers=ANTHROPIC, timeout=30)
    assert response.status_code == 200
    message = strict(Message, response.text)
    if outcome == "refusal":
        assert message.stop_details is not None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("fault", "status"),
    [(None, 401), ("rate_limit", 429), ("spend_limit", 429), ("server_error", 500), ("overloaded", 529)],
)
def test_anthropic_error_bodies_are_sdk_error_responses(
    make_simulator: Callable[..., Simulator], fault: str | None, status: int
) -> None:
    sim = fault_sim(make_simulator, fault, "anthropic")
    headers = ANTHROPIC if fault else {**ANTHROPIC, "x-api-key": "wrong"}
    response = requests.post(f"{sim.base_url}/v1/messages", json=MESSAGE, headers=headers, timeout=30)
    assert response.status_code == status
    # error_code/details are typed on the SDK's per-code error classes, not on the plain union member.
    body = response.json()
    body["error"] = {k: v for k, v in body["error"].items() if k not in ("error_code", "details")}
    strict(ErrorResponse, json.dumps(body))


def test_429s_carry_whole_second_retry_after_and_rate_limit_headers(
    make_simulator: Callable[..., Simulator],
) -> None:
    faults = [
        Fault("rate_limit", provider="openai", retry_after=0.25),
        Fault("rate_limit", provider="anthropic"),
    ]
    sim = make_simulator(api_key=KEY, models=MODELS, faults=faults)
    openai_429 = requests.post(f"{sim.base_url}/v1/chat/completions", json=CHAT, headers=OPENAI, timeout=30)
    anthropic_429 = requests.post(f"{sim.base_url}/v1/messages", json=MESSAGE, headers=ANTHROPIC, timeout=30)
    for response in (openai_429, anthropic_429):
        assert response.status_code == 429 and response.headers["retry-after"].isdigit()
    assert openai_429.headers["retry-after-ms"] == "250"
    assert openai_429.headers["x-ratelimit-remaining-requests"] == "0"
    assert openai_429.headers["x-ratelimit-reset-requests"] == "0.25s"
    assert anthropic_429.headers["anthropic-ratelimit-requests-remaining"] == "0"
    datetime.fromisoformat(anthropic_429.headers["anthropic-ratelimit-requests-reset"].replace("Z", "+00:00"))
