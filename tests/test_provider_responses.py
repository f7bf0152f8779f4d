"""The OpenAI adapter on `/v1/responses`: the id rule, learning from chat's 404, the mapping, end to end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openai.types.responses import Response
from sqlalchemy import select

from monitor.cli import main
from monitor.core.config import ProviderConfig
from monitor.providers import ChatRequest, ModelNotFound, RateLimited, get_provider
from monitor.providers.openai import OpenAIProvider
from monitor.providers.openai_responses import (
    completion_from_response,
    is_responses_only_model,
    responses_kwargs,
)
from monitor.simulator import Fault, SimModel, Simulator
from monitor.store.db import open_database
from monitor.store.tables import Model
from tests.runner_helpers import KEY_ENV as RUNNER_KEY_ENV
from tests.runner_helpers import write_workspace

KEY = "sk-simtest-responses-0123456789"
KEY_ENV = "MM_TEST_RESPONSES_KEY"
MODELS = [
    SimModel("gpt-sim-base", "openai"),
    SimModel("gpt-sim-pro", "openai", responses_only=True),
    SimModel("gpt-sim-omega", "openai", responses_only=True),
    SimModel("o9-sim-pro", "openai", reasoning=True, responses_only=True),
]


def provider(sim: Simulator, monkeypatch: pytest.MonkeyPatch, type_: str = "openai") -> OpenAIProvider:
    monkeypatch.setenv(KEY_ENV, KEY)
    config = ProviderConfig(
        type=type_, base_url=f"{sim.base_url}/v1", api_key_env=KEY_ENV, timeout_s=30.0, max_retries=0
    )
    built = get_provider("oa", config)
    assert isinstance(built, OpenAIProvider)
    return built


def ask(p: OpenAIProvider, model: str, times: int = 1, **kw: Any) -> list[Any]:
    request = ChatRequest(model=model, messages=[{"role": "user", "content": "What is 2 + 3?"}], **kw)

    async def run() -> list[Any]:
        try:
            return [await p.complete(request) for _ in range(times)]
        finally:
            await p.aclose()

    return asyncio.run(run())


def calls(sim: Simulator, endpoint: str) -> int:
    return int(sim.stats()["by_endpoint"].get(f"openai.{endpoint}", 0))


@pytest.mark.parametrize(
    ("model_id", "responses"),
    [
        ("o1-pro", True),
        ("o3-pro-2025-06-10", True),
        ("gpt-5-pro", True),
        ("gpt-5.2-pro-2025-12-11", True),
        ("gpt-5-codex", True),
        ("gpt-5.1-codex-max", True),
        ("codex-mini-latest", True),
        ("gpt-5", False),
        ("gpt-4.1", False),
        ("o3-mini", False),
        ("o3-deep-research", False),
        ("computer-use-preview", False),
        ("gpt-4o-mini-tts", False),
        ("claude-pro", False),
    ],
)
def test_the_id_rule_names_the_known_responses_only_families(model_id: str, responses: bool) -> None:
    assert is_responses_only_model(model_id) is responses


def test_a_responses_only_model_by_id_rule_answers_through_responses(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    p = provider(sim, monkeypatch)
    (done,) = ask(p, "gpt-sim-pro", max_tokens=200, temperature=0.0)
    assert done.text.strip() == "5" and done.outcome == "stop"
    assert done.resolved_model == "gpt-sim-pro-2026-01-01" and done.request_id
    assert (calls(sim, "chat"), calls(sim, "responses")) == (0, 1)
    assert p.learned_apis() == {}


def test_an_unknown_id_answering_the_404_is_retried_on_responses_once_then_goes_straight_there(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    p = provider(sim, monkeypatch)
    answers = ask(p, "gpt-sim-omega", times=3, max_tokens=200)
    assert [a.text.strip() for a in answers] == ["5", "5", "5"]
    assert (calls(sim, "chat"), calls(sim, "responses")) == (1, 3)
    assert p.learned_apis() == {"gpt-sim-omega": "responses"}


def test_known_apis_from_the_models_table_skip_the_probe(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    p = provider(sim, monkeypatch)
    p.use_apis({"gpt-sim-omega": "responses", "gpt-sim-base": "chat", "other": "bogus"})
    ask(p, "gpt-sim-omega")
    assert (calls(sim, "chat"), calls(sim, "responses")) == (0, 1)
    assert p.learned_apis() == {"gpt-sim-omega": "responses", "gpt-sim-base": "chat"}


def test_chat_models_stay_on_chat_and_are_remembered_as_chat(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    p = provider(sim, monkeypatch)
    ask(p, "gpt-sim-base")
    assert (calls(sim, "chat"), calls(sim, "responses")) == (1, 0)
    assert p.learned_apis() == {"gpt-sim-base": "chat"}


def test_compatible_servers_use_no_id_rule_but_still_learn(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    p = provider(sim, monkeypatch, type_="openai-compatible")
    (done,) = ask(p, "gpt-sim-pro")
    assert done.text.strip() == "5"
    assert (calls(sim, "chat"), calls(sim, "responses")) == (1, 1)


def test_the_request_maps_tokens_sampling_and_reasoning_effort(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    p = provider(sim, monkeypatch)
    # o9-sim-pro rejects temperature on Responses; the id rule drops it before sending.
    (done,) = ask(p, "o9-sim-pro", max_tokens=200, temperature=0.0, extra={"reasoning_effort": "low"})
    assert done.text and done.outcome == "stop"
    assert done.reasoning_tokens == 24 and done.output_tokens and done.output_tokens > 24
    assert done.input_tokens and done.cached_input_tokens == 0
    assert calls(sim, "responses") == 1


def test_the_sdk_arguments_follow_the_responses_request_shape() -> None:
    request = ChatRequest(
        model="gpt-5-pro",
        messages=[{"role": "system", "content": "Be terse."}, {"role": "user", "content": "2+2?"}],
        max_tokens=64,
        temperature=0.0,
        seed=7,
        timeout_s=5.0,
        extra={"reasoning_effort": "high", "top_p": 0.5, "user": "u1"},
    )
    assert responses_kwargs(request, no_sampling=True, keyless=False) == {
        "model": "gpt-5-pro",
        "input": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "2+2?"}],
        "store": False,
        "max_output_tokens": 64,
        "reasoning": {"effort": "high"},
        "extra_body": {"user": "u1"},
        "timeout": 5.0,
    }
    sampled = responses_kwargs(request, no_sampling=False, keyless=False)
    assert sampled["temperature"] == 0.0 and sampled["top_p"] == 0.5 and "seed" not in sampled


def test_a_learned_model_that_rejects_temperature_is_retried_without_it_and_remembered(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY, models=[SimModel("gpt-sim-deep", reasoning=True, responses_only=True)])
    p = provider(sim, monkeypatch)
    answers = ask(p, "gpt-sim-deep", times=2, max_tokens=200, temperature=0.0)
    assert [a.text.strip() for a in answers] == ["5", "5"]
    assert (calls(sim, "chat"), calls(sim, "responses")) == (1, 3)


def test_max_output_tokens_truncation_is_the_length_outcome(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    (done,) = ask(provider(sim, monkeypatch), "o9-sim-pro", max_tokens=10)
    assert done.finish_reason == "length" and done.outcome == "length"
    assert done.text == ""


@pytest.mark.parametrize(("kind", "outcome"), [("refusal", "refusal"), ("content_filter", "content_filter")])
def test_refusals_and_filtered_answers_map_to_their_outcomes(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch, kind: str, outcome: str
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, faults=[Fault(kind=kind, provider="openai")])
    (done,) = ask(provider(sim, monkeypatch), "gpt-sim-pro")
    assert done.outcome == outcome and done.text == ""
    assert (done.refusal is not None) is (kind == "refusal")


def test_a_responses_error_is_the_typed_provider_error(
    make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_simulator(
        api_key=KEY, models=MODELS, faults=[Fault(kind="rate_limit", provider="openai", retry_after=0.01)]
    )
    with pytest.raises(RateLimited) as caught:
        ask(provider(sim, monkeypatch), "gpt-sim-pro")
    assert caught.value.status == 429 and KEY not in str(caught.value)
    gone = make_simulator(api_key=KEY, models=MODELS)
    with pytest.raises(ModelNotFound):
        ask(provider(gone, monkeypatch), "gpt-nope-pro")


def test_a_function_call_output_and_a_failed_response_map() -> None:
    base: dict[str, Any] = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "gpt-x-pro",
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }
    call = {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}", "id": "fc_1"}
    tools = completion_from_response(
        Response.model_validate({**base, "status": "completed", "output": [call]}), 1.0, provider="oa"
    )
    assert tools.outcome == "tool_calls" and tools.request_id == "resp_1"
    assert tools.input_tokens is None
    failed = Response.model_validate(
        {**base, "status": "failed", "output": [], "error": {"code": "server_error", "message": "boom"}}
    )
    with pytest.raises(Exception, match="server_error: boom"):
        completion_from_response(failed, 1.0, provider="oa")


def test_poll_discovers_a_responses_only_model_and_eval_evaluates_it_unconfigured(
    tmp_path: Path, make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RUNNER_KEY_ENV, "sim-key")
    sim = make_simulator(models=[SimModel("gpt-sim-base"), SimModel("gpt-sim-pro", responses_only=True)])
    config = write_workspace(tmp_path, sim.base_url, samples=4)
    config.write_text(config.read_text().replace('type = "openai-compatible"', 'type = "openai"'))
    runner = CliRunner()
    polled = runner.invoke(main, ["--config", str(config), "poll", "--json"])
    assert polled.exit_code == 0, polled.output
    db = open_database(f"sqlite:///{tmp_path / 'monitor.db'}")
    with db.session() as session:
        tracked = set(session.scalars(select(Model.model_id)))
    db.dispose()
    assert tracked == {"gpt-sim-base", "gpt-sim-pro"}
    evaluated = runner.invoke(
        main, ["--config", str(config), "eval", "sim:gpt-sim-pro", "--suite", "tiny", "--json"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    (summary,) = json.loads(evaluated.output)
    assert summary["status"] == "done" and summary["done"] == 4
    assert calls(sim, "responses") == 4 and calls(sim, "chat") == 0


def test_a_learned_responses_only_model_is_remembered_in_the_models_table_across_runs(
    tmp_path: Path, make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RUNNER_KEY_ENV, "sim-key")
    sim = make_simulator(models=[SimModel("gpt-sim-base"), SimModel("gpt-sim-agent", responses_only=True)])
    config = write_workspace(tmp_path, sim.base_url, samples=2)
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "poll"]).exit_code == 0
    args = [
        "--config",
        str(config),
        "eval",
        "sim:gpt-sim-agent",
        "--suite",
        "tiny",
        "--concurrency",
        "1",
        "--json",
    ]
    assert runner.invoke(main, args).exit_code == 0
    chat_after_first = calls(sim, "chat")
    assert chat_after_first == 1  # the one probe that answered "only supported in v1/responses"
    db = open_database(f"sqlite:///{tmp_path / 'monitor.db'}")
    with db.session() as session:
        assert session.scalar(select(Model.api).where(Model.model_id == "gpt-sim-agent")) == "responses"
    db.dispose()
    assert runner.invoke(main, args).exit_code == 0
    assert calls(sim, "chat") == chat_after_first
