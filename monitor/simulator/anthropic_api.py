"""The Anthropic wire format (providers.md §2): paginated models list with lifecycle, and /v1/messages."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from monitor.simulator import unsupported
from monitor.simulator.catalog import SimModel
from monitor.simulator.conversation import anthropic_messages, from_anthropic
from monitor.simulator.errors import error_for, json_response
from monitor.simulator.generate import generate
from monitor.simulator.prompt import prompt_from
from monitor.simulator.state import SimState

NEW_VERSION = "2026-10-21"
OLD_VERSIONS = ("2023-06-01", "2023-01-01")
SAMPLING_PARAMS = ("temperature", "top_p", "top_k")
LIFECYCLES = ("active", "deprecated", "retired")


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _line(model_id: str) -> str | None:
    for line in ("haiku", "sonnet", "opus", "fable", "mythos"):
        if line in model_id:
            return line
    return None


def model_object(model: SimModel) -> dict[str, Any]:
    assert model.created is not None
    retires_at = f"{model.shutdown_date}T00:00:00Z" if model.shutdown_date else None
    deprecated_at = _rfc3339(model.created + timedelta(days=365)) if model.lifecycle != "active" else None
    return {
        "type": "model",
        "id": model.id,
        "display_name": model.display_name,
        "created_at": _rfc3339(model.created),
        "lifecycle": model.lifecycle,
        "deprecated_at": deprecated_at,
        "retires_at": retires_at,
        "line": _line(model.id),
        "max_input_tokens": 200000,
        "max_tokens": 64000,
        "capabilities": capabilities(model),
    }


def capabilities(model: SimModel) -> dict[str, Any]:
    """Every key of the SDK's `ModelCapabilities` (all required there): `thinking` follows `reasoning`."""

    def yes(flag: bool = True) -> dict[str, bool]:
        return {"supported": flag}

    thinking = model.reasoning
    return {
        "batch": yes(),
        "citations": yes(),
        "code_execution": yes(),
        "context_management": {"supported": True, "clear_tool_uses_20250919": yes()},
        "effort": {
            "supported": thinking,
            "low": yes(thinking),
            "medium": yes(thinking),
            "high": yes(thinking),
            "max": yes(thinking),
        },
        "image_input": yes(model.vision),
        "pdf_input": yes(),
        "server_tools": {"supported": True, "code_execution": yes(), "web_search": yes()},
        "structured_outputs": yes(model.structured_output),
        "thinking": {
            "supported": thinking,
            "types": {
                "adaptive": yes(thinking),
                "between_tools": yes(thinking),
                "disabled": yes(),
                "enabled": yes(thinking),
            },
        },
    }


STOP_REASONS = {
    "refusal": "refusal",
    "pause_turn": "pause_turn",
    "context_window": "model_context_window_exceeded",
}
"""A faults.OUTCOME_KINDS -> the stop_reason it answers with (no content filter here: it refuses)."""
REFUSAL_EXPLANATION = "This request was declined under the usage policy."


def newest_first(models: list[SimModel]) -> list[SimModel]:
    return sorted(models, key=lambda m: (m.created_unix, m.id), reverse=True)


def list_page(state: SimState, query: MultiMapping[str], request_id: str) -> web.Response:
    """One page of GET /v1/models; a first page (no cursor) counts as a poll."""
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1000:
        return error_for("anthropic", 400, "limit: Input should be between 1 and 1000", request_id=request_id)
    lifecycles = query.getall("lifecycle[]", []) or query.getall("lifecycle", [])
    for value in lifecycles:
        if value not in LIFECYCLES:
            message = f"lifecycle: Input should be 'active', 'deprecated' or 'retired', not {value!r}"
            return error_for("anthropic", 400, message, request_id=request_id)
    wanted = set(lifecycles) or {"active", "deprecated"}
    after, before = query.get("after_id"), query.get("before_id")
    if after is None and before is None:
        state.catalog.count_poll("anthropic")
    ordered = newest_first([m for m in state.catalog.models if m.provider == "anthropic"])
    position = {m.id: i for i, m in enumerate(ordered)}
    cursor = after or before
    if cursor is not None and cursor not in position:
        return error_for("anthropic", 400, f"Invalid cursor: {cursor}", request_id=request_id)
    visible = [m for m in ordered if m.lifecycle in wanted and state.catalog.is_live(m)]
    if after is not None:
        rest = [m for m in visible if position[m.id] > position[after]]
        page, has_more = rest[:limit], len(rest) > limit
    elif before is not None:
        rest = [m for m in visible if position[m.id] < position[before]]
        page, has_more = rest[-limit:], len(rest) > limit
    else:
        page, has_more = visible[:limit], len(visible) > limit
    body = {
        "data": [model_object(m) for m in page],
        "has_more": has_more,
        "first_id": page[0].id if page else None,
        "last_id": page[-1].id if page else None,
    }
    return json_response(body, headers={"request-id": request_id})


def validate(body: Any, version: str, request_id: str) -> web.Response | None:
    """The 400s of POST /v1/messages: shape, required max_tokens, and 2026-10-21's removed parameters."""
    if not isinstance(body, dict):
        return error_for(
            "anthropic", 400, "There was an issue with your request body.", request_id=request_id
        )
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            return error_for("anthropic", 400, f"{name}: Field required", request_id=request_id)
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
        return error_for(
            "anthropic", 400, "max_tokens: Input should be a valid integer >= 1", request_id=request_id
        )
    if not isinstance(body["messages"], list) or not body["messages"]:
        return error_for(
            "anthropic", 400, "messages: at least one message is required", request_id=request_id
        )
    if version not in OLD_VERSIONS:
        for name in SAMPLING_PARAMS:
            if name in body:
                return error_for(
                    "anthropic", 400, f"{name}: Extra inputs are not permitted", request_id=request_id
                )
    return None


async def messages(
    state: SimState, model: SimModel, body: dict[str, Any], request_id: str, outcome: str | None = None
) -> web.Response:
    """POST /v1/messages for a known, live model (auth, faults, lookup and validation are done)."""
    extras = from_anthropic(body)
    if refused := unsupported.refusal("anthropic", model, extras, request_id):
        return refused
    nonce = "" if model.deterministic else uuid.uuid4().hex
    prompt = prompt_from(anthropic_messages(body["messages"]), body.get("system"))
    reply = await generate(model, prompt, body["max_tokens"], state.latency_scale, nonce, extras)
    text = reply.text
    stop_reason = {"stop": "end_turn", "tool_calls": "tool_use"}.get(reply.finish, "max_tokens")
    stop_details = None
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    if outcome is None:
        content += [
            {
                "type": "tool_use",
                "id": state.next_id("toolu_sim"),
                "name": name,
                "input": json.loads(arguments),
            }
            for name, arguments in reply.tool_calls
        ]
    else:
        stop_reason = STOP_REASONS.get(outcome, "refusal")
        text = text[: max(1, len(text) // 2)]
        if stop_reason == "refusal":
            text = ""
            stop_details = {"type": "refusal", "category": None, "explanation": REFUSAL_EXPLANATION}
        content = [{"type": "text", "text": text}] if text else []
    result = {
        "id": state.next_id("msg_sim"),
        "type": "message",
        "role": "assistant",
        "model": model.snapshot,
        "content": content,
        "stop_reason": stop_reason,
        "stop_details": stop_details,
        "stop_sequence": None,
        "usage": {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "service_tier": "standard",
        },
    }
    return json_response(result, headers=ratelimit_headers(state, request_id))


def ratelimit_headers(state: SimState, request_id: str) -> dict[str, str]:
    headers = {"request-id": request_id}
    if state.limiter is not None:
        reset = datetime.now(UTC) + timedelta(seconds=1 / state.limiter.rate)
        headers["anthropic-ratelimit-requests-limit"] = str(round(state.limiter.rate * 60))
        headers["anthropic-ratelimit-requests-remaining"] = str(state.limiter.remaining())
        headers["anthropic-ratelimit-requests-reset"] = _rfc3339(reset)
    return headers


def not_found(model_id: str, request_id: str) -> web.Response:
    return error_for("anthropic", 404, f"model: {model_id}", request_id=request_id)


def auth_error(key: str | None, request_id: str) -> web.Response:
    message = f"invalid x-api-key: {key}" if key else "x-api-key header is required"
    return error_for("anthropic", 401, message, request_id=request_id)
