"""Reading one sample (native, OpenAI Evals or Inspect) and the samples of a suite's inline `samples` list."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.core.errors import SuiteError, suggest
from monitor.evals.versioning import content_key
from monitor.evals.yaml_lines import describe_value, line_of

REQUEST_KEYS = ("tools", "tool_choice", "response_format", "tool_results")
"""A sample's own request parts (docs/suites.md "Tools and structured outputs")."""
NATIVE_KEYS = ("id", "vars", "target", "choices", "group", "metadata", *REQUEST_KEYS)
INSPECT_KEYS = (
    "input",
    "target",
    "choices",
    "id",
    "metadata",
    "group",
    "sandbox",
    "files",
    "setup",
    *REQUEST_KEYS,
)
ROLES = ("system", "developer", "user", "assistant")
MESSAGE_ROLES = (*ROLES, "tool")
"""Roles a sample's own conversation may hold: prompt templates take ROLES, samples tool results too."""
RESERVED_VARS = ("target", "choices", "letters")
MAX_KEY_CHARS = 300


@dataclass
class RawSample:
    """A sample as read from YAML or JSONL, before its prompt is rendered."""

    key: str
    source: str
    target: Any
    choices: list[str] | None
    group: str | None
    vars: dict[str, Any]
    messages: list[dict[str, Any]] | None  # given as-is (OpenAI Evals / Inspect message lists)
    has_id: bool
    request: dict[str, Any]
    """The sample's own REQUEST_KEYS as written (checked by the loader against the suite's tools)."""


def sample_error(message: str, source: str) -> SuiteError:
    """A SuiteError at a sample's `file:line` source."""
    path, _, line = source.rpartition(":")
    return SuiteError(message, path=path, line=int(line))


def _read_messages(value: Any, source: str) -> list[dict[str, Any]]:
    """A conversation: {role, content} turns; assistant turns may carry `tool_calls`, `tool` turns answer
    one by `tool_call_id`; content may be a list of text and image parts."""
    if not isinstance(value, list) or not value:
        raise sample_error("input: expected a string or a non-empty list of {role, content} messages", source)
    messages: list[dict[str, Any]] = []
    for i, message in enumerate(value):
        where = f"input[{i}]"
        if not isinstance(message, dict) or "role" not in message:
            raise sample_error(f"{where}: expected a message {{role, content}}", source)
        role = message["role"]
        if role not in MESSAGE_ROLES:
            expected = ", ".join(MESSAGE_ROLES)
            raise sample_error(f"{where}.role: expected one of {expected}, got {role!r}", source)
        if role == "assistant" and message.get("tool_calls"):
            messages.append(_assistant_calls(message, where, source))
        elif role == "tool":
            messages.append(_tool_turn(message, where, source))
        else:
            if "content" not in message:
                raise sample_error(f"{where}: expected a message {{role, content}}", source)
            messages.append({"role": role, "content": _content(message["content"], where, source)})
    return messages


def _content(content: Any, where: str, source: str) -> str | list[dict[str, Any]]:
    """A turn's content: a string, or parts (text; images as placeholders the loader resolves)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list) or not content:
        raise sample_error(
            f"{where}.content: expected a string or a list of parts, got {describe_value(content)}", source
        )
    parts: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        at = f"{where}.content[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        elif kind in ("image", "image_url"):
            ref = part.get("path") or part.get("url") or part.get("image")
            if kind == "image_url":
                inner = part.get("image_url")
                ref = inner.get("url") if isinstance(inner, dict) else inner
            if not isinstance(ref, str) or not ref:
                raise sample_error(
                    f"{at}: an image part needs `path` (relative to the suite) or `url`", source
                )
            parts.append({"type": "image", "ref": ref, "where": at})
        else:
            raise sample_error(f"{at}: expected {{type: text, text}} or {{type: image, path | url}}", source)
    if all(p["type"] == "text" for p in parts):  # text only: one string, as every provider takes
        return "".join(p["text"] for p in parts)
    return parts


def _assistant_calls(message: dict[str, Any], where: str, source: str) -> dict[str, Any]:
    """An assistant turn that called tools, in the OpenAI form (flat {id, name, arguments} and Inspect's
    {id, function, arguments} accepted too)."""
    calls = message["tool_calls"]
    if not isinstance(calls, list):
        raise sample_error(f"{where}.tool_calls: expected a list of calls", source)
    normal = []
    for j, call in enumerate(calls):
        at = f"{where}.tool_calls[{j}]"
        if not isinstance(call, dict):
            raise sample_error(f"{at}: expected {{id, name, arguments}}", source)
        inner = call.get("function")
        function: dict[str, Any] = inner if isinstance(inner, dict) else call
        name, arguments, call_id = function.get("name"), function.get("arguments", {}), call.get("id")
        if isinstance(call.get("function"), str):  # Inspect's ToolCall: {id, function: NAME, arguments}
            name = call["function"]
        if not isinstance(call_id, str) or not call_id:
            raise sample_error(f"{at}.id: required (the id its tool result answers)", source)
        if not isinstance(name, str) or not name:
            raise sample_error(f"{at}.name: required (the function called)", source)
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        normal.append({"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}})
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise sample_error(f"{where}.content: expected a string next to tool_calls", source)
    return {"role": "assistant", "content": content or "", "tool_calls": normal}


def _tool_turn(message: dict[str, Any], where: str, source: str) -> dict[str, Any]:
    """A tool result: `tool_call_id` and its content (a JSON value is sent as JSON text)."""
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise sample_error(f"{where}.tool_call_id: required (the id of the call it answers)", source)
    if "content" not in message:
        raise sample_error(f"{where}.content: required (what the tool returned)", source)
    content = message["content"]
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return {"role": "tool", "tool_call_id": call_id, "content": text}


def _read_key(obj: dict[str, Any], source: str) -> str:
    value = obj.get("id")
    if value is None:
        return content_key(obj)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise sample_error(f"id: expected a string or an integer, got {describe_value(value)}", source)
    key = str(value)
    if not key.strip() or len(key) > MAX_KEY_CHARS:
        raise sample_error(f"id: expected 1 to {MAX_KEY_CHARS} characters, got {len(key)}", source)
    return key


def _read_choices(value: Any, source: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(c, str | int | float) for c in value):
        raise sample_error(
            f"choices: expected a non-empty list of strings, got {describe_value(value)}", source
        )
    return [str(c) for c in value]


def _read_group(value: Any, source: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise sample_error(f"group: expected a string, got {describe_value(value)}", source)
    if len(str(value)) > MAX_KEY_CHARS:
        raise sample_error(f"group: longer than {MAX_KEY_CHARS} characters", source)
    return str(value)


LONE_SURROGATE = (
    "an escape such as \\ud800 stands for half of a character (a lone surrogate), which is not text; "
    "write the character itself, or both halves of its pair"
)


def has_lone_surrogate(value: Any) -> bool:
    """Whether `value` holds half a character (from a `\\ud800` escape): no provider can be sent it,
    no hash can read it."""
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    return False


def read_sample(obj: Any, source: str) -> RawSample:
    """A native, OpenAI Evals or Inspect sample, told apart by its keys."""
    if not isinstance(obj, dict):
        raise sample_error(f"expected a JSON object (a sample), got {describe_value(obj)}", source)
    metadata = obj.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise sample_error(f"metadata: expected a mapping, got {describe_value(metadata)}", source)
    messages: list[dict[str, str]] | None = None
    if "input" in obj and "ideal" in obj:  # OpenAI Evals; other keys are kept as vars
        target = obj["ideal"]
        if not isinstance(target, str | list):
            raise sample_error(
                f"ideal: expected a string or a list of strings, got {describe_value(target)}", source
            )
        skip = ("input", "ideal", "id", "group", *REQUEST_KEYS)
        variables = {k: v for k, v in obj.items() if k not in skip}
        choices = None
    elif "input" in obj:  # Inspect
        _check_keys(obj, INSPECT_KEYS, source)
        target = obj.get("target")
        choices = _read_choices(obj.get("choices"), source)
        variables = {"metadata": metadata} if metadata is not None else {}
    else:  # native
        _check_keys(obj, NATIVE_KEYS, source)
        target = obj.get("target")
        choices = _read_choices(obj.get("choices"), source)
        variables = obj.get("vars", {})
        if not isinstance(variables, dict) or not all(isinstance(k, str) for k in variables):
            raise sample_error(
                f"vars: expected a mapping of names to values, got {describe_value(variables)}", source
            )
        variables = dict(variables)
        if metadata is not None:
            if "metadata" in variables:
                raise sample_error("vars.metadata clashes with the sample's metadata; rename one", source)
            variables["metadata"] = metadata
    if "input" in obj:
        value = obj["input"]
        if isinstance(value, str):
            variables = {"input": value, **variables}
        else:
            messages = _read_messages(value, source)
    clash = [] if variables.keys().isdisjoint(RESERVED_VARS) else [n for n in RESERVED_VARS if n in variables]
    if clash:
        raise sample_error(f"vars: {clash[0]!r} is reserved (the sample's own {clash[0]}); rename it", source)
    if not isinstance(target, str) and non_finite(target):
        raise sample_error(
            "target: NaN or Infinity is not a number any grader can compare (it would score 0); "
            'write a finite number, or quote it ("NaN") if the answer is that text',
            source,
        )
    return RawSample(
        key=_read_key(obj, source),
        source=source,
        target=target,
        choices=choices,
        group=_read_group(obj.get("group"), source),
        vars=variables,
        messages=messages,
        has_id=obj.get("id") is not None,
        request={} if obj.keys().isdisjoint(REQUEST_KEYS) else {k: obj[k] for k in REQUEST_KEYS if k in obj},
    )


def non_finite(value: Any) -> bool:
    """Whether a target holds NaN or ±Infinity anywhere (JSON and YAML both accept them)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, list | tuple):
        return any(non_finite(v) for v in value)
    if isinstance(value, dict):
        return any(non_finite(v) for v in value.values())
    return False


def _check_keys(obj: dict[str, Any], allowed: Sequence[str], source: str) -> None:
    for key in obj:
        if key not in allowed:
            shape = "an Inspect sample" if "input" in obj else "a sample"
            message = f"unknown key {key!r} in {shape}" + suggest(str(key), sorted(allowed))
            raise sample_error(message, source)


def inline_samples(data: Any, container: Any, path: str) -> Iterator[RawSample]:
    """The samples of a suite's `samples` list, each sourced at its YAML line."""
    if data is None:
        return
    if not isinstance(data, list):
        raise SuiteError(
            f"samples: expected a list, got {describe_value(data)}",
            path=path,
            line=line_of(container, "samples"),
        )
    for i, obj in enumerate(data):
        source = f"{path}:{line_of(data, i) or 0}"
        if has_lone_surrogate(obj):  # a JSONL line is checked as it is parsed (sample_files.parse_line)
            raise sample_error(LONE_SURROGATE, source)
        yield read_sample(obj, source)
