"""One resolved sample: what every grader and the judge read (kept apart from suites, below the graders)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitor.providers.base import ToolCall, ToolSpec


@dataclass(frozen=True, init=False)
class SampleSpec:
    """One sample, resolved: the exact messages sent, the target, and where it came from (`file:line`).

    `tools`, `tool_choice` and `response_format` are the request's (the sample's own, else the suite's);
    `tool_results` scripts what each tool returns (tool name -> result) for samples where the model must
    call a tool, read its result and answer (docs/suites.md "Conversations").
    """

    key: str
    messages: list[dict[str, Any]]
    target: Any
    choices: list[str] | None
    group: str | None
    vars: dict[str, Any]
    source: str
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: str | None = None
    response_format: dict[str, Any] | None = None
    tool_results: dict[str, Any] = field(default_factory=dict)

    def __init__(
        self,
        key: str,
        messages: list[dict[str, Any]],
        target: Any,
        choices: list[str] | None,
        group: str | None,
        vars: dict[str, Any],
        source: str,
        tools: tuple[ToolSpec, ...] = (),
        tool_choice: str | None = None,
        response_format: dict[str, Any] | None = None,
        tool_results: dict[str, Any] | None = None,
    ) -> None:
        """Every field set in one step: a frozen dataclass's own __init__ calls object.__setattr__ once
        per field, a tenth of `check`'s time on a 100,000-sample suite. Still frozen once built."""
        self.__dict__.update(
            {
                "key": key,
                "messages": messages,
                "target": target,
                "choices": choices,
                "group": group,
                "vars": vars,
                "source": source,
                "tools": tools,
                "tool_choice": tool_choice,
                "response_format": response_format,
                "tool_results": {} if tool_results is None else tool_results,
            }
        )

    @property
    def has_request(self) -> bool:
        """Whether the sample sends more than its messages (tools, an output format, tool results)."""
        return bool(self.tools or self.tool_choice or self.response_format or self.tool_results)

    @property
    def request(self) -> dict[str, Any] | None:
        """The request parts beyond the messages as stored with the sample (`samples.request`), or
        None when it sends only messages."""
        return self.request_fields() if self.has_request else None

    def request_fields(self) -> dict[str, Any]:
        """The request parts beyond the messages: tools, tool_choice, response_format, tool_results."""
        return {
            "tools": [
                {"name": t.name, "description": t.description, "parameters": t.parameters, "strict": t.strict}
                for t in self.tools
            ],
            "tool_choice": self.tool_choice,
            "response_format": self.response_format,
            "tool_results": self.tool_results,
        }


@dataclass(frozen=True)
class Answer:
    """What graders read: the final text and every tool call the model made, kept apart."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()


def shown_answer(text: str | None, tool_calls: list[dict[str, Any]] | None) -> str:
    """An answer as people read it in reports: its text, then one `→ name(arguments)` line per call."""
    calls = [
        f"→ {c.get('name', '?')}({c.get('arguments', '')})" for c in tool_calls or () if isinstance(c, dict)
    ]
    return "\n".join(part for part in (text or "", *calls) if part)


def stored_request(fields: dict[str, Any] | None) -> dict[str, Any]:
    """SampleSpec keyword arguments from the stored `request_fields()` (samples.request), for rebuilds."""
    if not fields:
        return {}
    return {
        "tools": tuple(ToolSpec(**tool) for tool in fields.get("tools") or ()),
        "tool_choice": fields.get("tool_choice"),
        "response_format": fields.get("response_format"),
        "tool_results": dict(fields.get("tool_results") or {}),
    }
