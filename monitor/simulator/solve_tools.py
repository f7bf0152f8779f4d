"""Act as an agent: pick the offered tool the request asks for, fill its arguments, then answer from
the tool's result; a model that is "wrong" makes one realistic tool-use mistake."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from monitor.simulator.conversation import Extras, Tool
from monitor.simulator.fill import fill, find_id, find_ids, missing
from monitor.simulator.match_tools import best_tool
from monitor.simulator.prompt import Prompt

EXTRA_ARGUMENT = ("note", "Customer asked politely.")


@dataclass(frozen=True)
class Decision:
    """What the model does this turn: text, tool calls as (name, JSON arguments), or both."""

    text: str | None
    calls: tuple[tuple[str, str], ...] = ()


def decide(extras: Extras, prompt: Prompt, right: bool, variant: float) -> Decision | None:
    """The agent's move, or None to answer in text as a plain prompt (no tool fits, or choice none)."""
    tools = extras.tools
    choice = extras.tool_choice or "auto"
    if not tools or choice == "none":
        return answer_from_results(extras.results, prompt.user, right, variant) if extras.results else None
    forced = choice != "auto"
    if extras.results and not forced:
        return answer_from_results(extras.results, prompt.user, right, variant)
    request = prompt.user
    named = next((t for t in tools if t.name == choice), None)
    tool = named or best_tool(tools, request)
    if tool is None:
        if not forced and (right or variant < 0.5):
            return None
        return _call(tools[0], request)
    if right:
        absent = missing(tool.parameters, request)
        if absent and not forced:
            wanted = " and ".join(name.replace("_", " ") for name in absent)
            return Decision(f"I can help with that. Could you tell me the {wanted}?")
        return _calls(tool, request)
    return mistake(tool, tools, request, forced=forced, named=named is not None, variant=variant)


def _calls(tool: Tool, request: str) -> Decision:
    """The right call, once per id when the request names several (parallel calls)."""
    arguments = fill(tool.parameters, request, every=tool.strict)
    ids = find_ids(request)
    key = next((k for k, v in arguments.items() if ids and v == ids[0]), None)
    if key is None or len(ids) < 2:
        return _call(tool, request, arguments)
    return Decision(None, tuple((tool.name, json.dumps({**arguments, key: ident})) for ident in ids))


def _call(tool: Tool, request: str, arguments: dict[str, Any] | None = None) -> Decision:
    values = fill(tool.parameters, request, every=tool.strict) if arguments is None else arguments
    return Decision(None, ((tool.name, json.dumps(values)),))


def mistake(
    tool: Tool, tools: list[Tool], request: str, *, forced: bool, named: bool, variant: float
) -> Decision:
    """One realistic error: text instead of a call, another tool, an argument missing, extra or wrong,
    or the right call made twice. A strict tool's arguments always match its schema."""
    arguments = fill(tool.parameters, request, every=tool.strict)
    kinds = [] if forced else ["text"]
    if len(tools) > 1 and not named:
        kinds.append("wrong_tool")
    if arguments and not tool.strict:
        kinds.append("missing")
    if not tool.strict:
        kinds.append("extra")
    kinds.append("twice")
    if arguments:
        kinds.append("wrong_value")
    kind = kinds[int(variant * len(kinds)) % len(kinds)]
    if kind == "text":
        return Decision(f"I can help with that. {_ask_back(request)}")
    if kind == "wrong_tool":
        other = [t for t in tools if t is not tool][int(variant * 7919) % (len(tools) - 1)]
        return _call(other, request)
    if kind == "missing":
        dropped = list(arguments)[int(variant * 7919) % len(arguments)]
        return _call(tool, request, {k: v for k, v in arguments.items() if k != dropped})
    if kind == "extra":
        return _call(tool, request, {**arguments, EXTRA_ARGUMENT[0]: EXTRA_ARGUMENT[1]})
    if kind == "twice":
        call = (tool.name, json.dumps(arguments))
        return Decision(None, (call, call))
    return _call(tool, request, wrong_value(tool.parameters, arguments, variant))


def wrong_value(schema: dict[str, Any], arguments: dict[str, Any], variant: float) -> dict[str, Any]:
    """The arguments with one value changed, still of the type (and enum) the schema allows."""
    changed = dict(arguments)
    key = list(changed)[int(variant * 7919) % len(changed)]
    value = changed[key]
    prop = (schema.get("properties") or {}).get(key) or {}
    enum = prop.get("enum") if isinstance(prop, dict) else None
    if isinstance(enum, list) and len(enum) > 1:
        changed[key] = next(option for option in enum if option != value)
    elif isinstance(value, bool):
        changed[key] = not value
    elif isinstance(value, int | float):
        changed[key] = value + 1
    elif isinstance(value, str) and value:
        changed[key] = value[:-1] + ("7" if value[-1] != "7" else "1")
    return changed


def _ask_back(request: str) -> str:
    ident = find_id(request)
    if ident:
        return f"Let me check {ident} for you; it should be sorted out shortly."
    return "Could you give me a few more details so I can look into it?"


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(_render(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {_render(v)}" for k, v in value.items())
    return str(value)


def facts(result: str) -> list[str]:
    """A tool result as short facts: each key of a JSON object with its value, else the text."""
    try:
        value = json.loads(result)
    except ValueError:
        return [" ".join(result.split())] if result.strip() else []
    if isinstance(value, dict):
        return [f"{k.replace('_', ' ')}: {_render(v)}" for k, v in value.items()]
    return [_render(value)]


def answer_from_results(
    results: list[tuple[str, str]], request: str, right: bool, variant: float
) -> Decision:
    """The text answer once the tools have answered: every fact of the results (a "wrong" model
    reports only the first, or none)."""
    found = [fact for _, result in results for fact in facts(result)]
    ident = find_id(request)
    lead = f"Here is what I found for {ident}" if ident else "Here is what I found"
    if right and found:
        return Decision(f"{lead}: " + "; ".join(found) + ".")
    if found and variant < 0.5:
        return Decision(f"{lead}: {found[0]}.")
    names = ", ".join(dict.fromkeys(re.sub(r"_", " ", name) for name, _ in results))
    return Decision(f"I checked with {names or 'our system'}, but I could not find the details right now.")
