"""The Gemini wire formats (providers.md §3): native models list with pageToken, native generateContent,
and the OpenAI-compatible models list and chat completions."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from monitor.simulator import openai_api, unsupported
from monitor.simulator.catalog import SimModel
from monitor.simulator.conversation import from_chat
from monitor.simulator.errors import error_for, gemini_error, json_response
from monitor.simulator.generate import generate
from monitor.simulator.prompt import prompt_from
from monitor.simulator.state import SimState

CHAT_METHODS = ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]


def methods(model: SimModel) -> list[str]:
    if model.chat:
        return CHAT_METHODS
    return ["embedContent"] if "embedding" in model.id else ["predict"]


def model_object(model: SimModel) -> dict[str, Any]:
    return {
        "name": f"models/{model.id}",
        "baseModelId": model.id,
        "version": "001",
        "displayName": model.display_name,
        "description": f"Simulated {model.display_name}.",
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": methods(model),
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2,
        "thinking": model.reasoning,
    }


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, value = text.partition(":")
        return int(value) if kind == "offset" and int(value) >= 0 else None
    except (ValueError, UnicodeDecodeError):
        return None


def list_page(state: SimState, query: MultiMapping[str]) -> web.Response:
    """One page of the native list; a first page (no pageToken) counts as a poll."""
    try:
        size = int(query.get("pageSize", "50"))
    except ValueError:
        size = -1
    if size < 0:
        return gemini_error(400, "Invalid pageSize: must be a non-negative integer.")
    size = min(size or 50, 1000)
    token = query.get("pageToken")
    offset = 0
    if token:
        parsed = _offset(token)
        if parsed is None:
            return gemini_error(400, "Invalid page token.")
        offset = parsed
    else:
        state.catalog.count_poll("gemini")
    listed = state.catalog.listed("gemini")
    page = listed[offset : offset + size]
    body: dict[str, Any] = {"models": [model_object(m) for m in page]}
    if offset + size < len(listed):
        body["nextPageToken"] = _token(offset + size)
    return json_response(body)


def openai_list(state: SimState) -> web.Response:
    """GET /v1beta/openai/models: one page, ids with the `models/` prefix."""
    state.catalog.count_poll("gemini")
    data = [
        {"id": f"models/{m.id}", "object": "model", "owned_by": "google"}
        for m in state.catalog.listed("gemini")
    ]
    return json_response({"object": "list", "data": data})


async def openai_chat(
    state: SimState, model: SimModel, body: dict[str, Any], request_id: str, outcome: str | None = None
) -> web.Response:
    """POST /v1beta/openai/chat/completions for a known, live model."""
    extras = from_chat(body)
    if refused := unsupported.refusal("gemini-openai", model, extras, request_id):
        return refused
    reply = await openai_api.chat_reply(state, model, body, extras)
    return json_response(openai_api.completion_body(state, model, reply, gemini=True, outcome=outcome))


def no_system_prompt(model_id: str, *, wrapped: bool = True) -> web.Response:
    """Gemma's 400 for a system prompt (it has no system role)."""
    message = f"Developer instruction is not enabled for models/{model_id}"
    return gemini_error(400, message, wrapped=wrapped)


def _native_prompt(body: dict[str, Any]) -> tuple[list[dict[str, Any]], Any]:
    messages = []
    for item in body.get("contents") or []:
        if isinstance(item, dict):
            role = "assistant" if item.get("role") == "model" else "user"
            messages.append({"role": role, "content": item.get("parts") or []})
    system = body.get("systemInstruction") or body.get("system_instruction")
    system_parts = system.get("parts") if isinstance(system, dict) else None
    return messages, system_parts


async def generate_content(
    state: SimState, model: SimModel, body: dict[str, Any], request_id: str, outcome: str | None = None
) -> web.Response:
    """POST /v1beta/models/{id}:generateContent; an `outcome` of content_filter or refusal is SAFETY."""
    messages, system = _native_prompt(body)
    if not messages:
        return gemini_error(400, "* GenerateContentRequest.contents: contents is not specified")
    if system and not model.system_prompt:
        return no_system_prompt(model.id, wrapped=False)
    config = body.get("generationConfig") or {}
    limit = config.get("maxOutputTokens") if isinstance(config, dict) else None
    nonce = "" if model.deterministic else uuid.uuid4().hex
    reply = await generate(
        model,
        prompt_from(messages, system),
        limit if isinstance(limit, int) else None,
        state.latency_scale,
        nonce,
    )
    thoughts = reply.reasoning_tokens
    candidates = reply.output_tokens - thoughts
    usage: dict[str, Any] = {
        "promptTokenCount": reply.input_tokens,
        "candidatesTokenCount": candidates,
        "totalTokenCount": reply.input_tokens + candidates + thoughts,
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    candidate: dict[str, Any] = {
        "content": {"role": "model", "parts": [{"text": reply.text}]},
        "finishReason": "STOP" if reply.finish == "stop" else "MAX_TOKENS",
        "index": 0,
    }
    if outcome in ("content_filter", "refusal"):
        candidate = {"finishReason": "SAFETY", "index": 0}
    elif outcome is not None:
        candidate["finishReason"] = "MAX_TOKENS"
    result = {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model.id,
        "responseId": request_id,
    }
    return json_response(result)


def not_found(model_id: str, request_id: str, *, wrapped: bool = False) -> web.Response:
    message = (
        f"models/{model_id} is not found for API version v1beta, or is not supported for generateContent."
    )
    return error_for("gemini-openai" if wrapped else "gemini", 404, message, request_id=request_id)
