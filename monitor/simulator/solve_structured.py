"""Answer in JSON only (structured output): a json_object from the text answer, or the object a
json_schema describes filled from the request; a "wrong" model gets one value wrong (or, when the
schema is not strict, leaves a required key out)."""

from __future__ import annotations

import json
import re
from typing import Any

from monitor.simulator.fill import fill, main_type, types_of
from monitor.simulator.prompt import Prompt
from monitor.simulator.solve_tools import wrong_value

ANSWER_KEYS = ("answer", "result", "value", "solution", "choice", "letter", "output", "reply", "response")


def as_object(text: str) -> dict[str, Any] | None:
    """The JSON object in `text`: the whole text, or from its first `{` (closing it when cut off)."""
    start = text.find("{")
    if start < 0:
        return None
    for candidate in (text[start:], text[start:] + "}"):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _coerce(text: str, schema: dict[str, Any]) -> Any:
    """The text answer as a value of the schema's type (a number from "The answer is 42.")."""
    kind = main_type(schema)
    if kind in ("integer", "number"):
        match = re.search(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
        if match is None:
            return 0
        value = float(match.group(0))
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return bool(re.match(r"\s*(yes|true|correct)\b", text, re.I))
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        spoken = re.sub(r"^the answer is\s+", "", text.strip().rstrip("."), flags=re.I)
        return next((o for o in enum if str(o).lower() == spoken.lower()), enum[0])
    bare = re.match(r"^The answer is (.+?)\.?$", text.strip())
    return bare.group(1) if bare else text


def structured(fmt: dict[str, Any], prompt: Prompt, text: str, right: bool, variant: float) -> str:
    """The JSON text the model answers; `text` is its plain answer to the same prompt."""
    if fmt["type"] == "json_object":
        return json.dumps(as_object(text) or {"answer": text})
    schema = fmt.get("schema") or {}
    strict = bool(fmt.get("strict"))
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    if main_type(schema) != "object" or not properties:
        return json.dumps(as_object(text) or {"answer": text})
    request = prompt.user
    values = fill(schema, request, every=strict)
    answered = as_object(text) or {}
    from_answer = False
    for name, prop in properties.items():
        prop = prop if isinstance(prop, dict) else {}
        if name in answered and _fits(answered[name], prop):
            values[name] = answered[name]
            from_answer = True
        elif name in ANSWER_KEYS:
            values[name] = _coerce(text, prop)
            from_answer = True
    values = {name: values[name] for name in properties if name in values}
    if right or from_answer or not values:
        return json.dumps(values)
    required = [k for k in schema.get("required") or [] if k in values]
    if not strict and required and variant < 0.4:
        dropped = required[int(variant * 7919) % len(required)]
        return json.dumps({k: v for k, v in values.items() if k != dropped})
    return json.dumps(wrong_value(schema, values, variant))


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether a value the text answer gave has a type the property allows."""
    allowed = types_of(schema)
    checks = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "null": value is None,
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }
    enum = schema.get("enum")
    return any(checks.get(kind, False) for kind in allowed) and (not isinstance(enum, list) or value in enum)
