"""Injected faults and the requests-per-minute limit, as the real SDKs see them (no SDK retries)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import anthropic
import openai
import pytest
import requests

from monitor.simulator import Fault, SimModel, Simulator
from monitor.simulator.ratelimit import TokenBucket
from tests.fake_clock import FakeClock

MESSAGES = [{"role": "user", "content": "hi"}]


def oai(sim: Simulator, timeout: float = 30) -> openai.OpenAI:
    return openai.OpenAI(api_key="sim-key", base_url=sim.base_url + "/v1", max_retries=0, timeout=timeout)


def ant(sim: Simulator) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sim-key", base_url=sim.base_url, max_retries=0, timeout=30)


def chat(sim: Simulator, timeout: float = 30) -> str | None:
    done = oai(sim, timeout).chat.completions.create(model="gpt-sim-base", messages=MESSAGES)  # type: ignore[arg-type]
    return done.choices[0].message.content


def test_rate_limit_fault_gives_429_with_retry_after_then_recovers(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(faults=[Fault("rate_limit", model="gpt-sim-base", count=1, retry_after=0.05)])
    with pytest.raises(openai.RateLimitError) as info:
        chat(sim)
    # Real providers send whole seconds in retry-after; the exact wait is in retry-after-ms.
    assert info.value.response.headers["retry-after"] == "1"
    assert info.value.response.headers["retry-after-ms"] == "50"
    assert info.value.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert info.value.code == "rate_limit_exceeded"
    assert chat(sim)
    assert sim.stats()["faults_injected"] == 1


def test_server_error_fault_gives_500_server_error(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(faults=[Fault("server_error", count=1)])
    with pytest.raises(openai.InternalServerError) as info:
        chat(sim)
    assert info.value.status_code == 500 and info.value.type == "server_error"


def test_overloaded_fault_is_503_on_openai(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(faults=[Fault("overloaded", provider="openai")])
    with pytest.raises(openai.InternalServerError) as info:
        chat(sim)
    assert info.value.status_code == 503 and info.value.code == "server_is_overloaded"


def test_overloaded_fault_is_529_overloaded_error_on_anthropic(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(faults=[Fault("overloaded", provider="anthropic")])
    with pytest.raises(anthropic.OverloadedError) as info:
        ant(sim).messages.create(model="claude-sim-haiku-20251001", max_tokens=50, messages=MESSAGES)  # type: ignore[arg-type]
    assert info.value.status_code == 529
    assert info.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


def test_overloaded_fault_is_503_unavailable_on_gemini(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(faults=[Fault("overloaded", provider="gemini")])
    response = requests.post(
        sim.base_url + "/v1beta/openai/chat/completions",
        headers={"Authorization": "Bearer sim-key"},
        json={"model": "gemini-sim-flash", "messages": MESSAGES},
        timeout=30,
    )
    assert response.status_code == 503 and response.json()[0]["error"]["status"] == "UNAVAILABLE"


def test_gemini_rate_limit_carries_retry_delay_in_the_body(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(faults=[Fault("rate_limit", provider="gemini", endpoint="models", retry_after=2)])
    response = requests.get(
        sim.base_url + "/v1beta/models", headers={"x-goog-api-key": "sim-key"}, timeout=30
    )
    error = response.json()["error"]
    assert response.status_code == 429 and error["status"] == "RESOURCE_EXHAUSTED"
    assert error["details"][0]["retryDelay"] == "2.000s"


def test_timeout_fault_stalls_past_the_client_timeout(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(faults=[Fault("timeout", count=1, hang_s=60)])
    with pytest.raises(openai.APITimeoutError):
        chat(sim, timeout=0.3)


def test_reset_fault_aborts_the_connection(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(faults=[Fault("reset", count=1)])
    with pytest.raises(openai.APIConnectionError):
        chat(sim)
    assert chat(sim)


def test_malformed_json_fault_sends_200_with_invalid_json(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(faults=[Fault("malformed_json", count=1)])
    response = requests.post(
        sim.base_url + "/v1/chat/completions",
        headers={"Authorization": "Bearer sim-key"},
        json={"model": "gpt-sim-base", "messages": MESSAGES},
        timeout=30,
    )
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_truncated_fault_sends_less_body_than_content_length(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(faults=[Fault("truncated", count=1)])
    body = json.dumps({"model": "gpt-sim-base", "messages": MESSAGES}).encode()
    with socket.create_connection((sim.host, sim.port), timeout=30) as conn:
        conn.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer sim-key\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, payload = received.partition(b"\r\n\r\n")
    assert b"Content-Length: 4096" in head
    assert 0 < len(payload) < 4096


def test_truncated_fault_is_a_connection_error_for_the_sdk(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(faults=[Fault("truncated", count=1)])
    with pytest.raises(openai.APIConnectionError):
        chat(sim)


def test_fault_for_one_model_leaves_the_others_alone(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(faults=[Fault("server_error", model="gpt-sim-mini")])
    assert chat(sim)
    with pytest.raises(openai.InternalServerError):
        oai(sim).chat.completions.create(model="gpt-sim-mini", messages=MESSAGES)  # type: ignore[arg-type]


def test_models_endpoint_fault_fails_the_list_and_does_not_count_a_poll(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(faults=[Fault("server_error", provider="openai", endpoint="models", count=1)])
    with pytest.raises(openai.InternalServerError):
        oai(sim).models.list()
    assert sim.stats()["polls"]["openai"] == 0
    assert oai(sim).models.list().data
    assert sim.stats()["polls"]["openai"] == 1


def test_fault_rate_hits_about_that_share_of_requests(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(
        models=[SimModel("gpt-sim-fast", latency_ms=0)], faults=[Fault("server_error", rate=0.3)]
    )
    client = oai(sim)
    failures = 0
    for _ in range(200):
        try:
            client.chat.completions.create(model="gpt-sim-fast", messages=MESSAGES)  # type: ignore[arg-type]
        except openai.InternalServerError:
            failures += 1
    assert 35 <= failures <= 85
    assert sim.stats()["faults_injected"] == failures


def test_rpm_limit_answers_429_with_retry_after_beyond_the_burst(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(models=[SimModel("gpt-sim-fast", latency_ms=0)], rpm_limit=1)
    assert oai(sim).chat.completions.create(model="gpt-sim-fast", messages=MESSAGES)  # type: ignore[arg-type]
    with pytest.raises(openai.RateLimitError) as info:
        oai(sim).chat.completions.create(model="gpt-sim-fast", messages=MESSAGES)  # type: ignore[arg-type]
    assert 0 < float(info.value.response.headers["retry-after"]) <= 60.0
    assert sim.stats()["rate_limited"] == 1


def test_rpm_bucket_grants_a_burst_then_one_token_per_interval() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1200, clock=clock)  # 20 per second, a burst of 20
    assert [bucket.take() for _ in range(20)] == [None] * 20
    assert bucket.take() == pytest.approx(0.05)
    clock.now += 0.05
    assert bucket.take() is None
    assert bucket.take() == pytest.approx(0.05)


def test_rpm_bucket_refills_to_its_burst_and_no_further() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1200, clock=clock)
    for _ in range(20):
        bucket.take()
    clock.now += 60.0
    assert [bucket.take() for _ in range(20)] == [None] * 20
    assert bucket.take() is not None
