"""The simulator speaks Gemini: native list with pageToken under /v1beta and /v1, OpenAI-compatible chat."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
import requests

from monitor.simulator import SimModel, Simulator


def native_pages(sim: Simulator, version: str = "v1beta", page_size: int = 2) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    params: dict[str, Any] = {"pageSize": page_size}
    while True:
        response = requests.get(
            f"{sim.base_url}/{version}/models",
            params=params,
            headers={"x-goog-api-key": "sim-key"},
            timeout=30,
        )
        response.raise_for_status()
        pages.append(response.json())
        token = pages[-1].get("nextPageToken")
        if not token:
            return pages
        params = {"pageSize": page_size, "pageToken": token}


def gemini_models(count: int) -> list[SimModel]:
    return [SimModel(f"gemini-sim-{i}", "gemini", latency_ms=0) for i in range(count)]


@pytest.mark.parametrize("version", ["v1beta", "v1"])
def test_native_list_follows_page_tokens_to_the_last_page(
    make_simulator: Callable[..., Simulator], version: str
) -> None:
    sim = make_simulator(models=gemini_models(5))
    pages = native_pages(sim, version)
    names = [m["name"] for page in pages for m in page["models"]]
    assert names == [f"models/gemini-sim-{i}" for i in range(5)]
    assert len(pages) == 3 and "nextPageToken" not in pages[-1]
    assert sim.stats()["polls"]["gemini"] == 1


def test_native_list_marks_chat_models_by_generation_methods(simulator: Simulator) -> None:
    models = {m["baseModelId"]: m for page in native_pages(simulator, page_size=50) for m in page["models"]}
    assert "generateContent" in models["gemini-sim-flash"]["supportedGenerationMethods"]
    assert "generateContent" not in models["text-embedding-sim-004"]["supportedGenerationMethods"]


def test_key_in_query_parameter_is_accepted(simulator: Simulator) -> None:
    response = requests.get(simulator.base_url + "/v1beta/models", params={"key": "sim-key"}, timeout=30)
    assert response.status_code == 200 and response.json()["models"]


def test_wrong_key_gets_400_api_key_invalid_echoing_the_key(simulator: Simulator) -> None:
    response = requests.get(
        simulator.base_url + "/v1beta/models", headers={"x-goog-api-key": "AIza-wrong-789"}, timeout=30
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and error["details"][0]["reason"] == "API_KEY_INVALID"
    assert "AIza-wrong-789" in error["message"]


def test_bad_page_token_gets_400(simulator: Simulator) -> None:
    response = requests.get(
        simulator.base_url + "/v1beta/models",
        params={"pageToken": "garbage!"},
        headers={"x-goog-api-key": "sim-key"},
        timeout=30,
    )
    assert response.status_code == 400


def test_openai_compatible_list_has_prefixed_ids(simulator: Simulator) -> None:
    gemini = openai.OpenAI(api_key="sim-key", base_url=simulator.base_url + "/v1beta/openai/", max_retries=0)
    ids = [m.id for m in gemini.models.list()]
    assert "models/gemini-sim-flash" in ids and all(i.startswith("models/") for i in ids)


def test_openai_compatible_chat_takes_ids_without_prefix(simulator: Simulator) -> None:
    gemini = openai.OpenAI(api_key="sim-key", base_url=simulator.base_url + "/v1beta/openai/", max_retries=0)
    completion = gemini.chat.completions.create(
        model="gemini-sim-flash", messages=[{"role": "user", "content": "What is the capital of Kenya?"}]
    )
    assert completion.model == "gemini-sim-flash" and completion.choices[0].message.content
    assert completion.usage is not None and completion.usage.total_tokens > 0


def test_openai_compatible_wrong_key_gets_wrapped_400(simulator: Simulator) -> None:
    gemini = openai.OpenAI(api_key="bad-key", base_url=simulator.base_url + "/v1beta/openai/", max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:
        gemini.chat.completions.create(model="gemini-sim-flash", messages=[{"role": "user", "content": "hi"}])
    assert isinstance(info.value.body, list)
    assert info.value.body[0]["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_native_generate_content_returns_candidates_and_usage(simulator: Simulator) -> None:
    response = requests.post(
        simulator.base_url + "/v1beta/models/gemini-sim-pro:generateContent",
        headers={"x-goog-api-key": "sim-key"},
        json={
            "contents": [
                {"role": "user", "parts": [{"text": "Tom has 3 pens and buys 4 more. How many pens?"}]}
            ],
            "systemInstruction": {"parts": [{"text": "Reply with the number only."}]},
        },
        timeout=30,
    )
    body = response.json()
    assert body["candidates"][0]["finishReason"] == "STOP"
    assert body["usageMetadata"]["totalTokenCount"] > body["usageMetadata"]["promptTokenCount"]


def test_unknown_model_gets_404_not_found(simulator: Simulator) -> None:
    response = requests.post(
        simulator.base_url + "/v1beta/models/gemini-nope:generateContent",
        headers={"x-goog-api-key": "sim-key"},
        json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        timeout=30,
    )
    assert response.status_code == 404 and response.json()["error"]["status"] == "NOT_FOUND"
