"""Anthropic Messages wire format: ChatRequest -> `messages.create` arguments, Message -> Completion."""

from __future__ import annotations

import json
import re
from typing import Any

from monitor.providers.base import (
    TOOL_CHOICES,
    BadRequest,
    BadResponse,
    ChatRequest,
    Completion,
    ToolCall,
    ToolSpec,
)

DEFAULT_MAX_TOKENS = 1024
"""Messages requires max_tokens; used when the suite sets none."""
SAMPLING_VERSION = "2023-06-01"
"""The API version that still accepts temperature/top_p/top_k (2026-10-21, the SDK's, rejects them)."""
_SAMPLING_PARAMS = ("temperature", "top_p", "top_k")
EFFORTS = ("low", "medium", "high", "xhigh", "max")
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
"""The media types an Anthropic base64 image source accepts (Base64ImageSourceParam)."""
_MEDIA_ALIASES = {"image/jpg": "image/jpeg"}
_DATA_URL = re.compile(r"data:([^;,]+);base64,(.*)", re.DOTALL)
_FORCED_CHOICES = ("any", "tool")


def request_kwargs(request: ChatRequest, *, provider: str) -> dict[str, Any]:
    """The `messages.create` arguments for `request`; a request Messages cannot express is a BadRequest.

    System messages are lifted into `system`, `tool` turns become `tool_result` blocks and assistant
    tool calls `tool_use` blocks. The suite's params (and `output_config`, which merges
    `reasoning_effort` with the structured-output format) go in the body, sampling ones under the
    older API version. With a `thinking_budget`, max_tokens is raised above the budget, temperature,
    top_p and top_k are not sent, and a forced tool_choice (required or a named tool) is sent as
    auto, because Anthropic rejects forced tool use with extended thinking.
    """
    budget = _thinking_budget(request.extra, provider)
    max_tokens = request.max_tokens or DEFAULT_MAX_TOKENS
    if budget is not None and max_tokens <= budget:
        max_tokens = budget + max_tokens
    system, turns = _split_messages(request.messages, provider)
    kwargs: dict[str, Any] = {"model": request.model, "max_tokens": max_tokens, "messages": turns}
    if system:
        kwargs["system"] = system
    if request.tools:
        kwargs["tools"] = [_tool_param(tool, provider) for tool in request.tools]
    choice = _tool_choice(request, provider)
    if choice is not None:
        if budget is not None and choice["type"] in _FORCED_CHOICES:
            choice = {"type": "auto"}
        kwargs["tool_choice"] = choice
    if budget is not None:
        kwargs["thinking"] = {"type": "enabled", "budget_tokens": budget}
    extra = _body_params(request, thinking=budget is not None, provider=provider)
    if extra:
        kwargs["extra_body"] = extra
    if any(name in extra for name in _SAMPLING_PARAMS):
        kwargs["extra_headers"] = {"anthropic-version": SAMPLING_VERSION}
    if request.timeout_s is not None:
        kwargs["timeout"] = request.timeout_s
    return kwargs


def _thinking_budget(extra: dict[str, Any], provider: str) -> int | None:
    """The suite's `thinking_budget` (tokens), or None when it sets none."""
    budget = extra.get("thinking_budget")
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0:
        raise BadRequest(
            f"thinking_budget must be a positive number of tokens, not {budget!r}", provider=provider
        )
    return budget


def _body_params(request: ChatRequest, *, thinking: bool, provider: str) -> dict[str, Any]:
    """A suite's OpenAI-named params in Messages terms: `stop` -> `stop_sequences`, `reasoning_effort`
    -> `output_config.effort` (values Messages does not know are dropped), `response_format` ->
    `output_config.format`; with thinking, no temperature/top_p/top_k (Messages rejects them)."""
    params = dict(request.extra)
    params.pop("thinking_budget", None)
    stop = params.pop("stop", None)
    if stop is not None:
        params["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    output_config: dict[str, Any] = {}
    effort = params.pop("reasoning_effort", None)
    if effort in EFFORTS:
        output_config["effort"] = effort
    if request.response_format is not None:
        output_config["format"] = _output_format(request.response_format, provider)
    if output_config:
        params["output_config"] = output_config
    if request.temperature is not None:
        params["temperature"] = request.temperature
    if thinking:
        for name in _SAMPLING_PARAMS:
            params.pop(name, None)
    return params


def _output_format(response_format: dict[str, Any], provider: str) -> dict[str, Any]:
    """A neutral response_format as Messages' native structured output (JSONOutputFormatParam)."""
    kind = response_format.get("type")
    if kind == "json_object":
        return {"type": "json_schema", "schema": {"type": "object"}}
    schema = response_format.get("schema")
    if kind == "json_schema" and isinstance(schema, dict):
        return {"type": "json_schema", "schema": schema}
    raise BadRequest(
        f"response_format must be json_object or json_schema with a schema object, not {response_format!r}",
        provider=provider,
    )


def _tool_param(tool: ToolSpec, provider: str) -> dict[str, Any]:
    """A neutral tool as a Messages custom tool (ToolParam): its parameters become `input_schema`."""
    schema = dict(tool.parameters)
    if schema.setdefault("type", "object") != "object":
        raise BadRequest(f"tool {tool.name!r}: parameters must be an object schema", provider=provider)
    param: dict[str, Any] = {"name": tool.name, "input_schema": schema}
    if tool.description:
        param["description"] = tool.description
    if tool.strict:
        param["strict"] = True
    return param


def _tool_choice(request: ChatRequest, provider: str) -> dict[str, Any] | None:
    """The neutral tool_choice as a ToolChoiceParam; None when unset, or auto/none with no tools."""
    choice = request.tool_choice
    if choice is None or (not request.tools and choice in ("auto", "none")):
        return None
    if choice == "auto":
        return {"type": "auto"}
    if choice == "none":
        return {"type": "none"}
    if choice == "required":
        if not request.tools:
            raise BadRequest(
                "tool_choice 'required' needs tools, and the request has none", provider=provider
            )
        return {"type": "any"}
    if choice not in {tool.name for tool in request.tools}:
        raise BadRequest(
            f"tool_choice names {choice!r}, which is not one of the request's tools "
            f"(or one of {', '.join(TOOL_CHOICES)})",
            provider=provider,
        )
    return {"type": "tool", "name": choice}


def _split_messages(messages: list[dict[str, Any]], provider: str) -> tuple[Any, list[dict[str, Any]]]:
    """(the `system` field, the turns): system messages lifted out (one string when every one is a
    string, else text blocks), consecutive `tool` turns gathered into one user turn of tool results."""
    system: list[Any] = []
    turns: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        role = message.get("role")
        where = f"messages[{index}] ({role})"
        if role == "tool":
            results.append(_tool_result(message, where, provider))
            continue
        if results:
            turns.append({"role": "user", "content": results})
            results = []
        content = message.get("content")
        if role in ("system", "developer"):  # Messages has one system prompt; developer turns join it
            system.append(content)
        elif role == "assistant":
            turns.append(_assistant_turn(message, where, provider))
        elif role == "user" and isinstance(content, list):
            turns.append({"role": "user", "content": _content_blocks(content, where, provider)})
        else:
            turns.append(message)
    if results:
        turns.append({"role": "user", "content": results})
    if all(isinstance(part, str) for part in system):
        return "\n\n".join(system), turns
    blocks: list[dict[str, Any]] = []
    for index, content in enumerate(system):
        if isinstance(content, str):
            blocks.append({"type": "text", "text": content})
            continue
        for block in _content_blocks(content, f"system message {index}", provider):
            if block["type"] != "text":
                raise BadRequest(
                    f"system message {index}: Messages takes text only in system", provider=provider
                )
            blocks.append(block)
    return blocks, turns


def _content_blocks(content: Any, where: str, provider: str) -> list[dict[str, Any]]:
    """OpenAI content parts (text, image_url) as Messages content blocks."""
    if not isinstance(content, list):
        raise BadRequest(f"{where}: content must be a string or a list of parts", provider=provider)
    blocks: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url" and isinstance(part.get("image_url"), dict):
            blocks.append(_image_block(part["image_url"].get("url"), where, provider))
        else:
            raise BadRequest(
                f"{where}: a content part is not text or image_url: {part!r:.200}", provider=provider
            )
    return blocks


def _image_block(url: Any, where: str, provider: str) -> dict[str, Any]:
    """An image_url part as an ImageBlockParam: a base64 data URL -> a base64 source, a URL -> a url one."""
    if not isinstance(url, str):
        raise BadRequest(f"{where}: an image_url part has no url", provider=provider)
    if url.startswith("data:"):
        match = _DATA_URL.fullmatch(url)
        if match is None:
            raise BadRequest(f"{where}: an image data URL is not base64 ({url[:40]}...)", provider=provider)
        media_type = match.group(1).strip().lower()
        media_type = _MEDIA_ALIASES.get(media_type, media_type)
        if media_type not in IMAGE_MEDIA_TYPES:
            raise BadRequest(
                f"{where}: Messages takes {', '.join(IMAGE_MEDIA_TYPES)} images, not {media_type}",
                provider=provider,
            )
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": match.group(2)},
        }
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise BadRequest(
        f"{where}: an image url must be https:// or a base64 data URL, not {url[:40]!r}", provider=provider
    )


def _assistant_turn(message: dict[str, Any], where: str, provider: str) -> dict[str, Any]:
    """An assistant turn: plain text as is; with parts or tool calls, text blocks then tool_use blocks."""
    content = message.get("content")
    calls = message.get("tool_calls") or []
    if isinstance(content, str) and not calls:
        return {"role": "assistant", "content": content}
    blocks: list[dict[str, Any]] = []
    if isinstance(content, str):
        if content:
            blocks.append({"type": "text", "text": content})
    elif content is not None:
        blocks.extend(_content_blocks(content, where, provider))
    blocks.extend(_tool_use_block(call, where, provider) for call in calls)
    return {"role": "assistant", "content": blocks}


def _tool_use_block(call: Any, where: str, provider: str) -> dict[str, Any]:
    """One OpenAI tool call as a ToolUseBlockParam; its arguments must be a JSON object ("" is `{}`)."""
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(call.get("id"), str) or not function.get("name"):
        raise BadRequest(
            f"{where}: a tool call needs an id and a function name: {call!r:.200}", provider=provider
        )
    name, arguments = function["name"], function.get("arguments")
    label = f"{where}: tool call {name!r} (id {call['id']})"
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            raise BadRequest(
                f"{label} has arguments that are not JSON ({exc.msg}): {arguments[:100]!r}", provider=provider
            ) from None
    if not isinstance(arguments, dict):
        raise BadRequest(
            f"{label} has arguments that are not a JSON object: {arguments!r:.100}", provider=provider
        )
    return {"type": "tool_use", "id": call["id"], "name": name, "input": arguments}


def _tool_result(message: dict[str, Any], where: str, provider: str) -> dict[str, Any]:
    """A `tool` turn as a ToolResultBlockParam answering its `tool_call_id`."""
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise BadRequest(f"{where}: a tool result has no tool_call_id", provider=provider)
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id}
    content = message.get("content")
    if isinstance(content, str):
        block["content"] = content
    elif content is not None:
        block["content"] = _content_blocks(content, where, provider)
    return block


def completion(message: Any, *, latency_ms: float, provider: str) -> Completion:
    """A Messages answer as a Completion: text blocks joined, tool_use blocks as ToolCalls (input as
    JSON text), thinking blocks left out; input tokens include cache creation and cache reads."""
    content = getattr(message, "content", None)
    if not isinstance(content, list):
        raise BadResponse("the message has no content blocks", provider=provider)
    usage = getattr(message, "usage", None)
    input_tokens = output_tokens = cache_read = cache_write = None
    if usage is not None:
        cache_read = usage.cache_read_input_tokens
        cache_write = usage.cache_creation_input_tokens
        input_tokens = (usage.input_tokens or 0) + (cache_write or 0) + (cache_read or 0)
        output_tokens = usage.output_tokens
    text = "".join(block.text for block in content if getattr(block, "type", None) == "text")
    calls = tuple(
        ToolCall(id=block.id, name=block.name, arguments=json.dumps(block.input))
        for block in content
        if getattr(block, "type", None) == "tool_use"
    )
    return Completion(
        text=text,
        refusal=_refusal(message, text),
        finish_reason=message.stop_reason,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=cache_read,
        cache_write_tokens=cache_write,
        latency_ms=latency_ms,
        resolved_model=message.model or None,
        request_id=getattr(message, "_request_id", None),
        tool_calls=calls,
    )


def _refusal(message: Any, text: str) -> str | None:
    """A `stop_reason: refusal` message's explanation (`stop_details`), else whatever text came first."""
    if message.stop_reason != "refusal":
        return None
    details = getattr(message, "stop_details", None)
    explanation = getattr(details, "explanation", None)
    return explanation if isinstance(explanation, str) and explanation else text
