"""What a chat request carries beyond its text, read per API: tools, tool choice, output format, tool
history and images, in one neutral form (`Extras`) the solvers and capability checks use."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from monitor.simulator.prompt import content_text

IMAGE_TOKENS = 85
"""Input tokens one image costs (OpenAI's low-detail price)."""


@dataclass(frozen=True)
class Tool:
    """One function the request offers: its name, description and JSON-Schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any] = field(hash=False)
    strict: bool = False


@dataclass(frozen=True)
class Image:
    """One image of a user turn: decoded bytes (a data URL or base64 source) or a URL; `where` is the
    wire path of its part, for the error a model without vision gives."""

    media_type: str | None
    data: bytes | None
    url: str | None
    where: str


@dataclass
class Extras:
    """The non-text parts of one request; an empty Extras means a plain prompt."""

    tools: list[Tool] = field(default_factory=list)
    tool_choice: str | None = None
    """"auto", "none", "required", or the name of the one tool that must be called."""
    response_format: dict[str, Any] | None = None
    """{"type": "json_object"} or {"type": "json_schema", "name", "schema", "strict"}."""
    images: list[Image] = field(default_factory=list)
    results: list[tuple[str, str]] = field(default_factory=list)
    """(tool name, result text) of the tool turns after the last user text: what the model must use."""

    @property
    def plain(self) -> bool:
        return not (self.tools or self.response_format or self.images or self.results)

    def key(self) -> str:
        """A stable text of everything that changes the answer, for the deterministic draws."""
        digests = [hashlib.sha256(i.data).hexdigest()[:16] if i.data else str(i.url) for i in self.images]
        tools = [[t.name, t.description, t.parameters, t.strict] for t in self.tools]
        parts = [tools, self.tool_choice, self.response_format, digests, self.results]
        return json.dumps(parts, sort_keys=True, default=str)

    def extra_input_tokens(self) -> int:
        """Tokens the tool definitions and images add to the prompt's text."""
        tools = len(json.dumps([[t.name, t.description, t.parameters] for t in self.tools])) // 4
        return (tools if self.tools else 0) + IMAGE_TOKENS * len(self.images)


def image_from_url(url: str, where: str) -> Image:
    """A `data:<type>;base64,...` URL decoded, or any other URL kept as is."""
    if url.startswith("data:") and "," in url:
        header, _, payload = url[5:].partition(",")
        media_type = header.split(";")[0] or None
        return Image(media_type, _b64(payload) if ";base64" in header else None, None, where)
    return Image(None, None, url, where)


def _b64(payload: str) -> bytes | None:
    try:
        return base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        return None


def _results(events: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """Events are ("user", "", text), ("call", id, name) and ("result", id, text), in order; the
    results after the last user text, each named by the tool its call id called."""
    names: dict[str, str] = {}
    results: list[tuple[str, str]] = []
    for kind, ident, value in events:
        if kind == "user":
            results = []
        elif kind == "call":
            names[ident] = value
        else:
            results.append((names.get(ident, ident), value))
    return results


def _choice(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if value.get("type") == "allowed_tools":
            return "auto" if value.get("mode") == "auto" else "required"
        function = value.get("function")
        name = function.get("name") if isinstance(function, dict) else value.get("name")
        return name if isinstance(name, str) else None
    return None


def _tool(spec: dict[str, Any], parameters_key: str = "parameters") -> Tool | None:
    name = spec.get("name")
    if not isinstance(name, str):
        return None
    parameters = spec.get(parameters_key)
    return Tool(
        name,
        str(spec.get("description") or ""),
        parameters if isinstance(parameters, dict) else {},
        bool(spec.get("strict")),
    )


def _schema_format(value: Any) -> dict[str, Any] | None:
    """A json_object or json_schema format from a flat {"type", "name", "schema", "strict"} mapping."""
    if not isinstance(value, dict):
        return None
    if value.get("type") == "json_object":
        return {"type": "json_object"}
    if value.get("type") == "json_schema":
        schema = value.get("schema")
        return {
            "type": "json_schema",
            "name": value.get("name"),
            "schema": schema if isinstance(schema, dict) else {},
            "strict": bool(value.get("strict")),
        }
    return None


def from_chat(body: dict[str, Any]) -> Extras:
    """A chat-completions body (OpenAI, and Gemini's OpenAI-compatible endpoint)."""
    extras = Extras()
    for item in body.get("tools") or []:
        function = item.get("function") if isinstance(item, dict) and item.get("type") == "function" else None
        if isinstance(function, dict) and (tool := _tool(function)):
            extras.tools.append(tool)
    extras.tool_choice = _choice(body.get("tool_choice"))
    fmt = body.get("response_format")
    if isinstance(fmt, dict):
        schema = fmt.get("json_schema") if fmt.get("type") == "json_schema" else None
        extras.response_format = _schema_format({"type": fmt.get("type"), **(schema or {})})
    events: list[tuple[str, str, str]] = []
    for i, message in enumerate(body.get("messages") or []):
        if not isinstance(message, dict):
            continue
        role, content = message.get("role"), message.get("content")
        if role == "user":
            events.append(("user", "", content_text(content)))
            for j, part in enumerate(content if isinstance(content, list) else []):
                if isinstance(part, dict) and part.get("type") == "image_url":
                    image = part.get("image_url")
                    url = image.get("url") if isinstance(image, dict) else image
                    if isinstance(url, str):
                        extras.images.append(image_from_url(url, f"messages.[{i}].content.[{j}].type"))
        elif role == "assistant":
            for call in message.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict):
                    events.append(("call", str(call.get("id")), str(function.get("name"))))
        elif role == "tool":
            events.append(("result", str(message.get("tool_call_id")), content_text(content)))
    extras.results = _results(events)
    return extras


def from_responses(body: dict[str, Any]) -> Extras:
    """A Responses body: function tools, `text.format`, input items with function calls and outputs."""
    extras = Extras()
    for item in body.get("tools") or []:
        if isinstance(item, dict) and item.get("type") == "function" and (tool := _tool(item)):
            extras.tools.append(tool)
    extras.tool_choice = _choice(body.get("tool_choice"))
    text = body.get("text")
    extras.response_format = _schema_format(text.get("format")) if isinstance(text, dict) else None
    given = body.get("input")
    events: list[tuple[str, str, str]] = []
    for i, item in enumerate(given if isinstance(given, list) else []):
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "function_call":
            events.append(("call", str(item.get("call_id")), str(item.get("name"))))
        elif kind == "function_call_output":
            output = item.get("output")
            events.append(("result", str(item.get("call_id")), content_text(output)))
        elif item.get("role") == "user":
            content = item.get("content")
            events.append(("user", "", content_text(content)))
            for j, part in enumerate(content if isinstance(content, list) else []):
                if isinstance(part, dict) and part.get("type") == "input_image":
                    url = part.get("image_url")
                    if isinstance(url, str):
                        extras.images.append(image_from_url(url, f"input[{i}].content[{j}].type"))
    extras.results = _results(events)
    return extras


def responses_messages(given: Any) -> list[Any]:
    """Responses `input` as chat-style messages: calls are empty assistant turns, outputs `tool` turns."""
    if isinstance(given, str):
        return [{"role": "user", "content": given}]
    messages: list[Any] = []
    for item in given:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "function_call":
            messages.append({"role": "assistant", "content": ""})
        elif kind == "function_call_output":
            messages.append({"role": "tool", "content": content_text(item.get("output"))})
        else:
            messages.append(item)
    return messages


def _anthropic_result(block: dict[str, Any]) -> str:
    content = block.get("content")
    return content_text(content) if content is not None else ""


def from_anthropic(body: dict[str, Any]) -> Extras:
    """A Messages body: client tools, `tool_choice`, `output_config.format`, image and tool blocks."""
    extras = Extras()
    for item in body.get("tools") or []:
        if (
            isinstance(item, dict)
            and item.get("type") in (None, "custom")
            and (tool := _tool(item, "input_schema"))
        ):
            extras.tools.append(tool)
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        kinds = {"auto": "auto", "any": "required", "none": "none"}
        extras.tool_choice = kinds.get(str(choice.get("type"))) or _choice(choice)
    config = body.get("output_config")
    fmt = config.get("format") if isinstance(config, dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        extras.response_format = _schema_format({**fmt, "name": "output", "strict": True})
    events: list[tuple[str, str, str]] = []
    for i, message in enumerate(body.get("messages") or []):
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        if message.get("role") == "assistant":
            events += [
                ("call", str(b.get("id")), str(b.get("name"))) for b in blocks if b.get("type") == "tool_use"
            ]
            continue
        results = [b for b in blocks if b.get("type") == "tool_result"]
        events += [("result", str(b.get("tool_use_id")), _anthropic_result(b)) for b in results]
        if not results:
            events.append(("user", "", content_text(content)))
        for j, block in enumerate(blocks):
            source = block.get("source") if block.get("type") == "image" else None
            if isinstance(source, dict):
                where = f"messages.{i}.content.{j}.image"
                if source.get("type") == "base64":
                    data = _b64(str(source.get("data") or ""))
                    extras.images.append(Image(source.get("media_type"), data, None, where))
                elif isinstance(source.get("url"), str):
                    extras.images.append(Image(None, None, source["url"], where))
    extras.results = _results(events)
    return extras


def anthropic_messages(messages: list[Any]) -> list[Any]:
    """Messages with tool blocks as chat-style turns: a user turn of tool results becomes `tool` turns."""
    out: list[Any] = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        results = [b for b in blocks if b.get("type") == "tool_result"]
        if not results:
            out.append(message)
            continue
        out += [{"role": "tool", "content": _anthropic_result(b)} for b in results]
        rest = [b for b in blocks if b.get("type") != "tool_result"]
        if content_text(rest):
            out.append({"role": message.get("role"), "content": rest})
    return out
