"""The simulator speaks Anthropic for the real anthropic SDK: paginated list, lifecycle, messages rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import anthropic
import pytest
import requests

from monitor.simulator import SimModel, Simulator


def client(sim: Simulator, key: str = "sim-key", **kwargs: object) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=key, base_url=sim.base_url, max_retries=0, timeout=30, **kwargs)  # type: ignore[arg-type]


def many_models(count: int) -> list[SimModel]:
    return [
        SimModel(
            f"claude-sim-{i:02d}", "anthropic", latency_ms=0, created=datetime(2025, 1, 1 + i, tzinfo=UTC)
        )
        for i in range(count)
    ]


def test_sdk_auto_pagination_walks_every_page_newest_first(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(models=many_models(11))
    ids = [m.id for m in client(sim).models.list(limit=3)]
    assert ids == [f"claude-sim-{i:02d}" for i in range(10, -1, -1)]
    assert sim.stats()["by_endpoint"]["anthropic.models"] == 4
    assert sim.stats()["polls"]["anthropic"] == 1


def test_page_carries_has_more_first_and_last_id(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(models=many_models(5))
    first = client(sim).models.list(limit=2)
    assert [m.id for m in first.data] == ["claude-sim-04", "claude-sim-03"]
    assert first.has_more and first.first_id == "claude-sim-04" and first.last_id == "claude-sim-03"
    last = client(sim).models.list(limit=2, after_id="claude-sim-01")
    assert [m.id for m in last.data] == ["claude-sim-00"] and not last.has_more
    before = client(sim).models.list(limit=2, before_id="claude-sim-01")
    assert [m.id for m in before.data] == ["claude-sim-03", "claude-sim-02"]


def test_retired_models_are_listed_only_when_lifecycle_asks_for_them(
    make_simulator: Callable[..., Simulator],
) -> None:
    models = [
        SimModel("claude-sim-new-20260101", "anthropic"),
        SimModel("claude-sim-old-20240101", "anthropic", lifecycle="deprecated", shutdown_date="2027-01-01"),
        SimModel("claude-sim-gone-20230101", "anthropic", lifecycle="retired"),
    ]
    sim = make_simulator(models=models)
    default = {m.id: m for m in client(sim).models.list()}
    assert set(default) == {"claude-sim-new-20260101", "claude-sim-old-20240101"}
    assert default["claude-sim-old-20240101"].retires_at is not None
    retired = [m.id for m in client(sim).models.list(lifecycle=["retired"])]
    assert retired == ["claude-sim-gone-20230101"]


def test_messages_answer_with_usage_and_end_turn(simulator: Simulator) -> None:
    raw = client(simulator).messages.with_raw_response.create(
        model="claude-sim-sonnet-20260115", max_tokens=300, messages=[{"role": "user", "content": "Hello!"}]
    )
    message = raw.parse()
    assert raw.headers["request-id"] == message._request_id
    assert message.stop_reason == "end_turn" and message.content[0].type == "text"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_messages_without_max_tokens_get_400_field_required(simulator: Simulator) -> None:
    response = requests.post(
        simulator.base_url + "/v1/messages",
        headers={"x-api-key": "sim-key", "anthropic-version": "2023-06-01"},
        json={"model": "claude-sim-sonnet-20260115", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens: Field required",
    }


def test_temperature_is_rejected_under_the_2026_10_21_version(simulator: Simulator) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        client(simulator).messages.create(
            model="claude-sim-sonnet-20260115",
            max_tokens=50,
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"temperature": 0},
        )
    assert info.value.body["error"]["message"] == "temperature: Extra inputs are not permitted"  # type: ignore[index]


def test_temperature_is_accepted_under_the_2023_06_01_version(simulator: Simulator) -> None:
    old = client(simulator, default_headers={"anthropic-version": "2023-06-01"})
    message = old.messages.create(
        model="claude-sim-sonnet-20260115",
        max_tokens=300,
        messages=[{"role": "user", "content": "hi"}],
        extra_body={"temperature": 0},
    )
    assert message.content[0].text  # type: ignore[union-attr]


def test_x_api_key_header_is_accepted_as_well_as_bearer(simulator: Simulator) -> None:
    response = requests.get(
        simulator.base_url + "/v1/models",
        headers={"x-api-key": "sim-key", "anthropic-version": "2023-06-01"},
        timeout=30,
    )
    assert response.status_code == 200 and response.json()["data"][0]["type"] == "model"


def test_wrong_key_gets_401_authentication_error_echoing_the_key(simulator: Simulator) -> None:
    with pytest.raises(anthropic.AuthenticationError) as info:
        client(simulator, key="sk-ant-wrong-456").models.list()
    assert info.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    assert "sk-ant-wrong-456" in str(info.value)


def test_unknown_model_gets_404_not_found_error(simulator: Simulator) -> None:
    with pytest.raises(anthropic.NotFoundError):
        client(simulator).messages.create(
            model="claude-nope", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
