"""The Gemini adapter against the simulator: native list with pageToken, OpenAI-compatible chat."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from monitor.core.config import ProviderConfig
from monitor.providers import (
    AuthError,
    BadResponse,
    ChatRequest,
    ModelNotFound,
    Overloaded,
    ProviderError,
    RateLimited,
)
from monitor.providers.gemini import GeminiProvider, api_root
from monitor.simulator import Fault, SimModel, Simulator
from tests.provider_faults import CHAT_FAULTS

KEY = "gemini-sim-key-7"

MODELS = [
    SimModel("gemini-sim-flash", "gemini"),
    SimModel("gemini-sim-pro", "gemini"),
    SimModel("gemini-sim-flash-image", "gemini"),
    SimModel("gemini-sim-live-preview", "gemini"),
    SimModel("text-embedding-sim-004", "gemini", chat=False),
    SimModel("imagen-sim-3", "gemini", chat=False),
    SimModel("gemma-sim-3", "gemini"),
]


def provider(sim: Simulator, *, page_size: int = 1000, **cfg: Any) -> GeminiProvider:
    settings: dict[str, Any] = {"timeout_s": 30.0, "max_retries": 0, **cfg}
    config = ProviderConfig(type="gemini", base_url=sim.base_url, api_key_env="UNUSED", **settings)
    return GeminiProvider("gemini", config, KEY, page_size=page_size)


def ask(p: GeminiProvider, model: str = "gemini-sim-flash", **kw: Any) -> Any:
    async def run() -> Any:
        try:
            return await p.complete(
                ChatRequest(model=model, messages=[{"role": "user", "content": "What is 2 + 3?"}], **kw)
            )
        finally:
            await p.aclose()

    return asyncio.run(run())


def test_lists_every_page_following_next_page_token(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    infos = provider(sim, page_size=3).list_models()
    assert [i.id for i in infos] == [m.id for m in MODELS]
    assert sim.stats()["by_endpoint"]["gemini.models"] == 3
    assert infos[0].display_name == MODELS[0].display_name
    assert infos[0].raw["name"] == "models/gemini-sim-flash"


def test_default_rule_keeps_text_generation_models_only(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    p = provider(sim)
    kept = [i.id for i in p.list_models() if p.is_chat_model(i)]
    assert kept == ["gemini-sim-flash", "gemini-sim-pro", "gemma-sim-3"]


def test_completes_a_chat_through_the_openai_compatible_endpoint(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    completion = ask(provider(sim), max_tokens=300, temperature=0.0)
    assert completion.text
    assert completion.finish_reason == "stop"
    assert completion.input_tokens and completion.output_tokens
    assert completion.resolved_model == "gemini-sim-flash"
    assert sim.stats()["by_endpoint"]["gemini.chat"] == 1


def test_base_url_is_the_api_root_with_fixed_paths() -> None:
    assert api_root(None) == "https://generativelanguage.googleapis.com"
    assert api_root("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert api_root("https://generativelanguage.googleapis.com/v1beta/openai/") == (
        "https://generativelanguage.googleapis.com"
    )


@pytest.mark.parametrize(("kind", "error"), CHAT_FAULTS)
def test_each_chat_fault_becomes_its_typed_error(
    make_simulator: Callable[..., Simulator], kind: str, error: type[ProviderError]
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, faults=[Fault(kind=kind, retry_after=0.4, hang_s=3)])
    with pytest.raises(error) as caught:
        ask(provider(sim, timeout_s=0.5 if kind == "timeout" else 30.0))
    if kind == "rate_limit":
        assert caught.value.retry_after == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("kind", "error"),
    [("rate_limit", RateLimited), ("overloaded", Overloaded), ("malformed_json", BadResponse)],
)
def test_each_list_fault_becomes_its_typed_error(
    make_simulator: Callable[..., Simulator], kind: str, error: type[ProviderError]
) -> None:
    sim = make_simulator(
        api_key=KEY, models=MODELS, faults=[Fault(kind=kind, endpoint="models", retry_after=0.4)]
    )
    with pytest.raises(error) as caught:
        provider(sim).list_models()
    if kind == "rate_limit":
        assert caught.value.retry_after == pytest.approx(0.4)


def test_unknown_model_is_not_found_from_an_array_wrapped_error(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS)
    with pytest.raises(ModelNotFound):
        ask(provider(sim), "gemini-does-not-exist")


def test_invalid_key_is_an_auth_error_whose_text_and_logs_hold_no_key(
    make_simulator: Callable[..., Simulator], caplog: pytest.LogCaptureFixture
) -> None:
    sim = make_simulator(api_key="the-right-key", models=MODELS)
    p = provider(sim)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as listed:
        p.list_models()
    with pytest.raises(AuthError) as chatted:
        ask(p)
    for exc in (listed.value, chatted.value):
        assert KEY not in str(exc) and "[redacted]" in str(exc)
    assert all(KEY not in record.getMessage() for record in caplog.records)


def test_a_failure_on_a_later_page_fails_the_whole_list(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(api_key=KEY, models=MODELS, rpm_limit=1)
    with pytest.raises(RateLimited):
        provider(sim, page_size=3, max_retries=3).list_models()
    assert sim.stats()["by_endpoint"]["gemini.models"] == 2
