"""The OpenAI wire format (providers.md §1): models list, chat completions, the reasoning-model rules."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from aiohttp import web

from monitor.simulator import unsupported
from monitor.simulator.catalog import SimModel
from monitor.simulator.conversation import Extras, from_chat
from monitor.simulator.errors import error_for, json_response
from monitor.simulator.generate import Reply, generate
from monitor.simulator.prompt import prompt_from
from monitor.simulator.state import SimState

SAMPLING_PARAMS = ("temperature", "top_p")


def model_object(model: SimModel, quirk: str | None = None) -> dict[str, Any]:
    """One `/v1/models` entry; `aliases`, `created_now` and `extra` give compatible servers' fields."""
    created = int(time.time()) if model.created_now else model.created_unix
    item: dict[str, Any] = {"id": model.id, "object": "model", "created": created}
    if model.aliases is not None:
        item["aliases"] = list(model.aliases)
    if quirk == "no_created":
        del item["created"]
    item["owned_by"] = model.owned_by
    if model.shutdown_date:
        item["shutdown_date"] = model.shutdown_date
    item.update(model.extra)
    return item


def list_body(models: list[SimModel], quirk: str | None) -> Any:
    items = [model_object(m, quirk) for m in models]
    if quirk == "bare_array":
        return items
    if quirk == "data_null":
        return {"object": "list", "data": None}
    return {"object": "list", "data": items}


def ratelimit_headers(state: SimState, request_id: str) -> dict[str, str]:
    limit = state.limiter
    headers = {
        "x-request-id": request_id,
        "openai-version": "2020-10-01",
        "x-ratelimit-limit-tokens": "1000000",
        "x-ratelimit-remaining-tokens": "999000",
        "x-ratelimit-reset-tokens": "6ms",
    }
    if limit is not None:
        headers["x-ratelimit-limit-requests"] = str(round(limit.rate * 60))
        headers["x-ratelimit-remaining-requests"] = str(limit.remaining())
        headers["x-ratelimit-reset-requests"] = f"{round(1000 / limit.rate)}ms"
    else:
        headers["x-ratelimit-limit-requests"] = "10000"
        headers["x-ratelimit-remaining-requests"] = "9999"
        headers["x-ratelimit-reset-requests"] = "6ms"
    return headers


def reasoning_rejection(body: dict[str, Any], request_id: str) -> web.Response | None:
    """The exact 400s a reasoning model gives for `max_tokens` and a non-default temperature/top_p."""
    if "max_tokens" in body and body["max_tokens"] is not None:
        return error_for(
            "openai",
            400,
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            request_id=request_id,
            code="unsupported_parameter",
            param="max_tokens",
        )
    for name in SAMPLING_PARAMS:
        value = body.get(name)
        if value is not None and value != 1:
            return error_for(
                "openai",
                400,
                f"Unsupported value: '{name}' does not support {json.dumps(value)} with this model. "
                "Only the default (1) value is supported.",
                request_id=request_id,
                code="unsupported_value",
                param=name,
            )
    return None


def validate_chat(body: Any, api: str, request_id: str) -> web.Response | None:
    """400 for a body that is not a chat request."""
    if not isinstance(body, dict):
        return error_for(api, 400, "We could not parse the JSON body of your request.", request_id=request_id)
    if not isinstance(body.get("model"), str):
        return error_for(api, 400, "you must provide a model parameter", request_id=request_id, param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return error_for(
            api,
            400,
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            request_id=request_id,
            code="empty_array",
            param="messages",
        )
    return None


async def chat_reply(
    state: SimState, model: SimModel, body: dict[str, Any], extras: Extras | None = None
) -> Reply:
    limit = body.get("max_completion_tokens")
    if limit is None:
        limit = body.get("max_tokens")
    max_tokens = limit if isinstance(limit, int) else None
    nonce = "" if model.deterministic else uuid.uuid4().hex
    prompt = prompt_from(body["messages"])
    return await generate(model, prompt, max_tokens, state.latency_scale, nonce, extras)


REFUSAL_TEXT = "I'm sorry, but I can't help with that request."


def has_system(body: dict[str, Any]) -> bool:
    """Whether a chat body carries a system or developer turn."""
    return any(isinstance(m, dict) and m.get("role") in ("system", "developer") for m in body["messages"])


def _outcome_choice(reply: Reply, outcome: str | None) -> tuple[str | None, str | None, str]:
    """(content, refusal, finish_reason) of a reply, or of the outcome variant asked for."""
    if outcome == "refusal":
        return None, REFUSAL_TEXT, "stop"
    if outcome == "content_filter":
        return None, None, "content_filter"
    if outcome in ("pause_turn", "context_window"):
        return reply.text[: max(1, len(reply.text) // 2)], None, "length"
    return reply.text, None, reply.finish


def completion_body(
    state: SimState, model: SimModel, reply: Reply, *, gemini: bool = False, outcome: str | None = None
) -> dict[str, Any]:
    """A chat.completion; `outcome` (a faults.OUTCOME_KINDS) turns it into that variant."""
    content, refusal, finish = _outcome_choice(reply, outcome)
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal, "annotations": []}
    if reply.tool_calls and outcome is None:
        message["content"] = content or None
        message["tool_calls"] = [
            {
                "id": state.next_id("call_sim"),
                "type": "function",
                "function": {"name": name, "arguments": args},
            }
            for name, args in reply.tool_calls
        ]
    usage: dict[str, Any] = {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
    }
    body: dict[str, Any] = {
        "id": state.next_id("chatcmpl-sim"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model.id if gemini else model.snapshot,
        "choices": [
            {
                "index": 0,
                "finish_reason": finish,
                "logprobs": None,
                "message": message,
            }
        ],
        "usage": usage,
    }
    if not gemini:
        usage["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
        usage["completion_tokens_details"] = {
            "reasoning_tokens": reply.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        }
        body["service_tier"] = "default"
        body["system_fingerprint"] = model.system_fingerprint
    return body


async def chat(
    state: SimState, model: SimModel, body: dict[str, Any], request_id: str, outcome: str | None = None
) -> web.Response:
    """POST /v1/chat/completions for a known, live model (auth, faults and lookup are done)."""
    if model.reasoning:
        rejection = reasoning_rejection(body, request_id)
        if rejection is not None:
            return rejection
    extras = from_chat(body)
    if refused := unsupported.refusal("openai", model, extras, request_id):
        return refused
    started = time.perf_counter()
    reply = await chat_reply(state, model, body, extras)
    headers = ratelimit_headers(state, request_id)
    headers["openai-processing-ms"] = str(round((time.perf_counter() - started) * 1000))
    return json_response(completion_body(state, model, reply, outcome=outcome), headers=headers)


def not_found(model_id: str, request_id: str, api: str = "openai") -> web.Response:
    return error_for(
        api,
        404,
        f"The model `{model_id}` does not exist or you do not have access to it.",
        request_id=request_id,
        code="model_not_found",
        param="model" if api == "openai" else None,
    )


def not_chat(model_id: str, request_id: str) -> web.Response:
    return error_for(
        "openai",
        404,
        f"This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
        f"Did you mean to use v1/completions? ({model_id})",
        request_id=request_id,
        code="model_not_found",
        param="model",
    )


def auth_error(key: str | None, request_id: str) -> web.Response:
    if not key:
        message = (
            "You didn't provide an API key. You need to provide your API key in an Authorization header "
            "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
        return error_for("openai", 401, message, request_id=request_id)
    return error_for(
        "openai",
        401,
        f"Incorrect API key provided: {key}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        request_id=request_id,
        code="invalid_api_key",
    )
