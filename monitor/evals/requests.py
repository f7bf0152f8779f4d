"""Reading a suite's or a sample's `tools`, `tool_choice`, `response_format` and scripted `tool_results`.

Each reader checks the OpenAI JSON-Schema form docs/suites.md documents and returns the neutral
types of providers.base; every error names the key (`tools[1].parameters`) through `fail`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from monitor.core.errors import SuiteError
from monitor.evals.yaml_lines import describe_value
from monitor.providers.base import TOOL_CHOICES, ToolSpec

Fail = Callable[[str, str], SuiteError]
"""(key, message) -> the SuiteError to raise, located at that key."""

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
"""Function names every provider accepts (OpenAI's and Anthropic's common rule)."""
TOOL_KEYS = ("name", "description", "parameters", "strict")
FORMAT_TYPES = ("json_object", "json_schema")


def check_schema(schema: Any, key: str, fail: Fail) -> dict[str, Any]:
    """`schema` is a JSON Schema mapping (checked against its metaschema), else a SuiteError at `key`."""
    if not isinstance(schema, dict):
        raise fail(key, f"expected a JSON Schema mapping, got {describe_value(schema)}")
    from jsonschema.exceptions import SchemaError  # only suites with schemas pay for jsonschema
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        raise fail(key, f"not a valid JSON Schema: {exc.message}") from None
    return dict(schema)


def read_tools(value: Any, fail: Fail) -> tuple[ToolSpec, ...]:
    """`tools`: a list of {name, description, parameters, strict}; the OpenAI `{type: function,
    function: {...}}` wrapping is accepted too, so definitions can be pasted from OpenAI code."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise fail("tools", f"expected a list of tool definitions, got {describe_value(value)}")
    tools: list[ToolSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        where = f"tools[{i}]"
        if (
            isinstance(item, dict)
            and item.get("type") == "function"
            and isinstance(item.get("function"), dict)
        ):
            item = item["function"]
        if not isinstance(item, dict):
            raise fail(
                where, f"expected a mapping {{name, description, parameters}}, got {describe_value(item)}"
            )
        unknown = [k for k in item if k not in TOOL_KEYS]
        if unknown:
            raise fail(f"{where}.{unknown[0]}", f"unknown key (expected {', '.join(TOOL_KEYS)})")
        name = item.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise fail(f"{where}.name", f"expected 1-64 letters, digits, '_' or '-', got {name!r}")
        if name in TOOL_CHOICES:
            raise fail(f"{where}.name", f"{name!r} is a tool_choice value; rename the tool")
        if name in seen:
            raise fail(f"{where}.name", f"two tools are named {name!r}")
        seen.add(name)
        description = item.get("description", "")
        if not isinstance(description, str):
            raise fail(f"{where}.description", f"expected a string, got {describe_value(description)}")
        if "parameters" not in item:
            raise fail(
                f"{where}.parameters",
                "required: a JSON Schema object for the arguments, e.g. "
                "{type: object, properties: {order_id: {type: string}}, required: [order_id]}",
            )
        parameters = check_schema(item["parameters"], f"{where}.parameters", fail)
        if parameters.get("type") != "object":
            raise fail(f"{where}.parameters", "expected an object schema (type: object): arguments are named")
        strict = item.get("strict", False)
        if not isinstance(strict, bool):
            raise fail(f"{where}.strict", f"expected true or false, got {describe_value(strict)}")
        tools.append(ToolSpec(name=name, description=description, parameters=parameters, strict=strict))
    return tuple(tools)


def read_tool_choice(value: Any, tools: tuple[ToolSpec, ...], fail: Fail) -> str | None:
    """`tool_choice`: auto | required | none | {name: TOOL} (OpenAI's {type: function, function: {name}}
    too) -> a TOOL_CHOICES value or the forced tool's name, which must be one of `tools`."""
    if value is None:
        return None
    if isinstance(value, dict):
        inner = value.get("function") if value.get("type") == "function" else value
        name = inner.get("name") if isinstance(inner, dict) else None
        if not isinstance(name, str):
            raise fail("tool_choice", "expected auto, required, none or {name: TOOL}")
        if name not in {t.name for t in tools}:
            known = ", ".join(t.name for t in tools) or "none defined"
            raise fail("tool_choice", f"names the tool {name!r}, which is not in tools ({known})")
        return name
    if value not in TOOL_CHOICES:
        raise fail(
            "tool_choice", f"expected auto, required, none or {{name: TOOL}}, got {describe_value(value)}"
        )
    if value != "none" and not tools:
        raise fail("tool_choice", f"is {value!r} but no tools are defined")
    return str(value)


def read_response_format(value: Any, fail: Fail) -> dict[str, Any] | None:
    """`response_format`: {type: json_object} or {type: json_schema, name, schema, strict}; OpenAI's
    nesting ({type: json_schema, json_schema: {name, schema, strict}}) is accepted and flattened."""
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in FORMAT_TYPES:
        raise fail("response_format", "expected {type: json_object} or {type: json_schema, name, schema}")
    if value["type"] == "json_object":
        if len(value) > 1:
            extra = next(k for k in value if k != "type")
            raise fail(f"response_format.{extra}", "unknown key for json_object (it takes only type)")
        return {"type": "json_object"}
    nested = value.get("json_schema")
    body: dict[str, Any] = nested if isinstance(nested, dict) else value
    allowed = ("type", "name", "schema", "strict", "description", "json_schema")
    unknown = [k for k in (*value, *body) if k not in allowed]
    if unknown:
        raise fail(f"response_format.{unknown[0]}", "unknown key (expected name, schema, strict)")
    name = body.get("name", "response")
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        raise fail("response_format.name", f"expected 1-64 letters, digits, '_' or '-', got {name!r}")
    if "schema" not in body:
        raise fail("response_format.schema", "required: the JSON Schema the answer must match")
    schema = check_schema(body["schema"], "response_format.schema", fail)
    strict = body.get("strict", False)
    if not isinstance(strict, bool):
        raise fail("response_format.strict", f"expected true or false, got {describe_value(strict)}")
    return {"type": "json_schema", "name": name, "schema": schema, "strict": strict}


def read_tool_results(value: Any, tools: tuple[ToolSpec, ...], fail: Fail) -> dict[str, Any]:
    """`tool_results`: tool name -> what that tool returns (text or any JSON value); names must be tools."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail("tool_results", f"expected a mapping of tool name -> result, got {describe_value(value)}")
    names = {t.name for t in tools}
    for name in value:
        if name not in names:
            known = ", ".join(sorted(names)) or "none defined"
            raise fail(f"tool_results.{name}", f"is not one of the sample's tools ({known})")
    return dict(value)
