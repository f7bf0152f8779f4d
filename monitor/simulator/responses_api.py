"""OpenAI's Responses wire format (providers.md §1.4): `POST /v1/responses` and chat's Responses-only 404."""

from __future__ import annotations

import time
import uuid
from typing import Any

from aiohttp import web

from monitor.simulator import unsupported
from monitor.simulator.catalog import SimModel
from monitor.simulator.conversation import Extras, from_responses, responses_messages
from monitor.simulator.errors import error_for, json_response
from monitor.simulator.generate import Reply, generate
from monitor.simulator.openai_api import REFUSAL_TEXT, SAMPLING_PARAMS, ratelimit_headers
from monitor.simulator.prompt import prompt_from
from monitor.simulator.state import SimState

RESPONSES_ONLY_MESSAGE = "This model is only supported in v1/responses and not in v1/chat/completions."


def responses_only(request_id: str) -> web.Response:
    """Chat completions' exact 404 for a model that answers only on `/v1/responses`."""
    return error_for("openai", 404, RESPONSES_ONLY_MESSAGE, request_id=request_id, param="model")


def validate(body: Any, request_id: str) -> web.Response | None:
    """400 for a body that is not a Responses request (a model and a non-empty `input`)."""
    if not isinstance(body, dict):
        return error_for(
            "openai", 400, "We could not parse the JSON body of your request.", request_id=request_id
        )
    if not isinstance(body.get("model"), str):
        return error_for(
            "openai", 400, "Missing required parameter: 'model'.", request_id=request_id, param="model"
        )
    given = body.get("input")
    if not (isinstance(given, str) and given) and not (isinstance(given, list) and given):
        return error_for(
            "openai",
            400,
            "Missing required parameter: 'input'.",
            request_id=request_id,
            code="missing_required_parameter",
            param="input",
        )
    return None


def sampling_rejection(body: dict[str, Any], request_id: str) -> web.Response | None:
    """A reasoning model's 400 for `temperature`/`top_p` on Responses."""
    for name in SAMPLING_PARAMS:
        if body.get(name) is not None:
            return error_for(
                "openai",
                400,
                f"Unsupported parameter: '{name}' is not supported with this model.",
                request_id=request_id,
                code="unsupported_parameter",
                param=name,
            )
    return None


async def reply_for(state: SimState, model: SimModel, body: dict[str, Any], extras: Extras) -> Reply:
    limit = body.get("max_output_tokens")
    nonce = "" if model.deterministic else uuid.uuid4().hex
    prompt = prompt_from(responses_messages(body["input"]), system=body.get("instructions"))
    return await generate(
        model, prompt, limit if isinstance(limit, int) else None, state.latency_scale, nonce, extras
    )


def _content(reply: Reply, outcome: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """(message content parts, incomplete reason) of a reply, or of the outcome variant asked for."""
    if outcome == "refusal":
        return [{"type": "refusal", "refusal": REFUSAL_TEXT}], None
    if outcome == "content_filter":
        return [], "content_filter"
    text, reason = reply.text, "max_output_tokens" if reply.finish == "length" else None
    if outcome in ("pause_turn", "context_window"):
        text, reason = reply.text[: max(1, len(reply.text) // 2)], "max_output_tokens"
    return [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}], reason


def response_body(
    state: SimState, model: SimModel, body: dict[str, Any], reply: Reply, outcome: str | None = None
) -> dict[str, Any]:
    """A `response` object as `openai.types.responses.Response` declares it."""
    content, reason = _content(reply, outcome)
    output: list[dict[str, Any]] = []
    if model.reasoning:
        output.append({"type": "reasoning", "id": state.next_id("rs_sim"), "summary": []})
    calls = reply.tool_calls if outcome is None else ()
    if calls and not reply.text:
        content = []
    if content:
        status = "incomplete" if reason else "completed"
        output.append(
            {
                "type": "message",
                "id": state.next_id("msg_sim"),
                "role": "assistant",
                "status": status,
                "content": content,
            }
        )
    for name, arguments in calls:
        call = {"type": "function_call", "id": state.next_id("fc_sim"), "call_id": state.next_id("call_sim")}
        output.append({**call, "name": name, "arguments": arguments, "status": "completed"})
    now = int(time.time())
    effort = (body.get("reasoning") or {}).get("effort") if model.reasoning else None
    return {
        "id": state.next_id("resp_sim"),
        "object": "response",
        "created_at": now,
        "completed_at": None if reason else now,
        "status": "incomplete" if reason else "completed",
        "background": False,
        "error": None,
        "incomplete_details": {"reason": reason} if reason else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": model.snapshot,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": effort or ("medium" if model.reasoning else None), "summary": None},
        "service_tier": "default",
        "temperature": 1.0,
        "text": {"format": echo_format(body), "verbosity": "medium"},
        "tool_choice": echo_choice(body.get("tool_choice")),
        "tools": echo_tools(body.get("tools")),
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": reply.input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": reply.output_tokens,
            "output_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
            "total_tokens": reply.input_tokens + reply.output_tokens,
        },
        "user": None,
        "metadata": {},
    }


def echo_format(body: dict[str, Any]) -> dict[str, Any]:
    """The `text.format` the request asked for, as the response repeats it (plain text by default)."""
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        echoed = {k: fmt[k] for k in ("type", "name", "schema", "description", "strict") if k in fmt}
        return {"name": "output", "schema": {}, **echoed}
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        return {"type": "json_object"}
    return {"type": "text"}


def echo_choice(choice: Any) -> Any:
    """The `tool_choice` repeated: a mode, or `{"type": "function", "name"}`."""
    if choice in ("auto", "none", "required"):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return {"type": "function", "name": choice["name"]}
    return "auto"


def echo_tools(tools: Any) -> list[dict[str, Any]]:
    """The function tools repeated as `FunctionTool` objects."""
    echoed = []
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, dict) and tool.get("type") == "function" and isinstance(tool.get("name"), str):
            item = {"type": "function", "name": tool["name"], "description": tool.get("description")}
            item["parameters"] = tool.get("parameters")
            item["strict"] = tool.get("strict", True)
            echoed.append(item)
    return echoed


async def respond(
    state: SimState, model: SimModel, body: dict[str, Any], request_id: str, outcome: str | None = None
) -> web.Response:
    """POST /v1/responses for a known, live chat model (auth, faults and lookup are done)."""
    if model.reasoning and (rejection := sampling_rejection(body, request_id)):
        return rejection
    extras = from_responses(body)
    if refused := unsupported.refusal("responses", model, extras, request_id):
        return refused
    started = time.perf_counter()
    reply = await reply_for(state, model, body, extras)
    headers = ratelimit_headers(state, request_id)
    headers["openai-processing-ms"] = str(round((time.perf_counter() - started) * 1000))
    return json_response(response_body(state, model, body, reply, outcome), headers=headers)
