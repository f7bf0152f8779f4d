"""The OpenAI wire forms of a request's tools, output format, turns and reasoning, and of its tool calls.

Shared by chat completions (OpenAI, OpenAI-compatible servers, Gemini's compatible endpoint) and the
Responses API, so the neutral ChatRequest (see base.ChatRequest) is translated in one place. A form the
neutral types do not define is a BadRequest, never a silently plainer request.
"""

from __future__ import annotations

from typing import Any

from monitor.providers.base import TOOL_CHOICES, BadRequest, ChatRequest, ToolCall, ToolSpec

EFFORT_BANDS = ((2048, "low"), (8192, "medium"))
"""`thinking_budget` tokens -> `reasoning_effort` when no effort is given: up to 2048 low, 8192 medium."""
BUDGET_ABOVE_BANDS = "high"
REASONING_KEYS = ("reasoning_effort", "thinking_budget")


def split_reasoning(extra: dict[str, Any], *, provider: str = "") -> tuple[str | None, dict[str, Any]]:
    """The reasoning effort to send (given, else by `thinking_budget` in EFFORT_BANDS) and the rest."""
    rest = {k: v for k, v in extra.items() if k not in REASONING_KEYS}
    effort = extra.get("reasoning_effort")
    if effort is not None:
        return str(effort), rest
    budget = extra.get("thinking_budget")
    if budget is None:
        return None, rest
    if isinstance(budget, bool) or not isinstance(budget, int):
        raise BadRequest(f"thinking_budget must be a number of tokens, not {budget!r}", provider=provider)
    return next((effort for limit, effort in EFFORT_BANDS if budget <= limit), BUDGET_ABOVE_BANDS), rest


def json_format(response_format: dict[str, Any], *, provider: str = "") -> tuple[str, dict[str, Any]]:
    """A neutral `response_format`, checked: its type and the json_schema fields (name, schema, strict)."""
    kind = response_format.get("type")
    if kind == "json_object":
        return kind, {}
    schema = response_format.get("schema")
    name = response_format.get("name")
    if kind != "json_schema" or not isinstance(schema, dict) or not isinstance(name, str):
        raise BadRequest(
            f"unsupported response_format of type {kind!r} (json_object, or json_schema with name, schema)",
            provider=provider,
        )
    return kind, {"name": name, "schema": schema, "strict": bool(response_format.get("strict", False))}


def _named_choice(choice: str | None) -> str | None:
    """The forced tool's name for a neutral `tool_choice` naming one, else None (auto/required/none)."""
    return None if choice is None or choice in TOOL_CHOICES else choice


def chat_features(request: ChatRequest, *, provider: str = "") -> dict[str, Any]:
    """`tools`, `tool_choice` and `response_format` as chat-completions parameters (those that are set)."""
    params: dict[str, Any] = {}
    if request.tools:
        params["tools"] = [chat_tool(tool) for tool in request.tools]
    if request.tool_choice is not None:
        name = _named_choice(request.tool_choice)
        params["tool_choice"] = (
            request.tool_choice if name is None else {"type": "function", "function": {"name": name}}
        )
    if request.response_format is not None:
        kind, schema = json_format(request.response_format, provider=provider)
        params["response_format"] = {"type": kind, **({"json_schema": schema} if schema else {})}
    return params


def chat_tool(tool: ToolSpec) -> dict[str, Any]:
    """One function tool in the chat form (`ChatCompletionFunctionToolParam`)."""
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
            "strict": tool.strict,
        },
    }


def responses_features(request: ChatRequest, *, provider: str = "") -> dict[str, Any]:
    """`tools`, `tool_choice` and `text.format` as Responses parameters (those the request sets)."""
    params: dict[str, Any] = {}
    if request.tools:
        params["tools"] = [
            {
                "type": "function",
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
                "strict": tool.strict,
            }
            for tool in request.tools
        ]
    if request.tool_choice is not None:
        name = _named_choice(request.tool_choice)
        params["tool_choice"] = request.tool_choice if name is None else {"type": "function", "name": name}
    if request.response_format is not None:
        kind, schema = json_format(request.response_format, provider=provider)
        params["text"] = {"format": {"type": kind, **schema}}
    return params


def responses_input(messages: list[dict[str, Any]], *, provider: str = "") -> list[dict[str, Any]]:
    """Chat-form turns as Responses input items.

    Text turns keep their role (string content as is, parts as `input_text`/`input_image`); an
    assistant turn is its text as an assistant message, then one `function_call` item per tool call;
    a `tool` turn is a `function_call_output` item answering its `tool_call_id`.
    """
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": str(message.get("tool_call_id") or ""),
                    "output": _text_of(message.get("content"), provider),
                }
            )
        elif role == "assistant":
            items.extend(_assistant_items(message, provider))
        elif role in ("user", "system", "developer"):
            content = message.get("content")
            parts = content if isinstance(content, str) else [_input_part(p, provider) for p in content or []]
            items.append({"role": role, "content": parts})
        else:
            raise BadRequest(
                f"a turn with role {role!r} cannot be sent to the Responses API", provider=provider
            )
    return items


def _assistant_items(message: dict[str, Any], provider: str) -> list[dict[str, Any]]:
    """An assistant turn: its text (when it has any, or makes no call), then its tool calls."""
    calls = message.get("tool_calls") or []
    text = _text_of(message.get("content"), provider)
    items: list[dict[str, Any]] = [{"role": "assistant", "content": text}] if text or not calls else []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or call.get("type", "function") != "function":
            kind = call.get("type") if isinstance(call, dict) else type(call).__name__
            raise BadRequest(
                f"an assistant tool call of type {kind!r} is not a function call", provider=provider
            )
        items.append(
            {
                "type": "function_call",
                "call_id": str(call.get("id") or ""),
                "name": str(function.get("name") or ""),
                "arguments": str(function.get("arguments") or ""),
            }
        )
    return items


def _input_part(part: Any, provider: str) -> dict[str, Any]:
    """A chat content part as a Responses input part (`input_text`, or `input_image` with its detail)."""
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text":
        return {"type": "input_text", "text": str(part.get("text") or "")}
    image = part.get("image_url") if kind == "image_url" else None
    if isinstance(image, dict) and isinstance(image.get("url"), str):
        return {"type": "input_image", "image_url": image["url"], "detail": image.get("detail") or "auto"}
    raise BadRequest(f"a content part of type {kind!r} the Responses API cannot take", provider=provider)


def _text_of(content: Any, provider: str) -> str:
    """A turn's text: string content as is, the text parts joined, None as ""."""
    if content is None or isinstance(content, str):
        return content or ""
    texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
    if len(texts) != len(content):
        raise BadRequest("only text parts can be sent in an assistant or tool turn", provider=provider)
    return "".join(str(text or "") for text in texts)


def chat_tool_calls(message: Any) -> tuple[ToolCall, ...]:
    """A chat answer's function tool calls, in order, arguments raw; a missing id becomes `call_<n>`."""
    calls = getattr(message, "tool_calls", None) or []
    return tuple(
        ToolCall(id=call.id or f"call_{index}", name=call.function.name, arguments=call.function.arguments)
        for index, call in enumerate(calls)
        if call.type == "function"
    )


def responses_tool_calls(response: Any) -> tuple[ToolCall, ...]:
    """A Response's `function_call` output items as ToolCalls (id = `call_id`, which answers them)."""
    return tuple(
        ToolCall(id=item.call_id, name=item.name, arguments=item.arguments)
        for item in response.output
        if item.type == "function_call"
    )
