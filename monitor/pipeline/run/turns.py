"""A sample's conversation: the model's tool calls answered with the sample's scripted results, then again.

docs/suites.md "Conversations": when every tool the model called has a scripted result, the runner
sends the assistant turn and one `tool` turn per call and asks again, for at most MAX_TURNS model
turns. The answer graded is the last text with every call made on the way.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from monitor.providers.base import ChatRequest, Completion, ToolCall

MAX_TURNS = 5
"""Model turns per sample: enough for a lookup, an action and an answer; bounds a looping model."""


def answers_calls(completion: Completion, tool_results: dict[str, Any]) -> bool:
    """Whether the conversation goes on: the model called tools and each has a scripted result."""
    calls = completion.tool_calls
    return bool(calls) and bool(tool_results) and all(c.name in tool_results for c in calls)


def tool_turn(call: ToolCall, result: Any) -> dict[str, Any]:
    """The `tool` turn answering `call` with its scripted result (JSON text unless already text)."""
    content = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
    return {"role": "tool", "tool_call_id": call.id, "content": content}


def next_request(request: ChatRequest, completion: Completion, tool_results: dict[str, Any]) -> ChatRequest:
    """`request` with the model's tool-calling turn and the scripted results appended."""
    assistant = {
        "role": "assistant",
        "content": completion.text,
        "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in completion.tool_calls
        ],
    }
    results = [tool_turn(c, tool_results[c.name]) for c in completion.tool_calls]
    return replace(request, messages=[*request.messages, assistant, *results])


def _total(first: int | None, second: int | None) -> int | None:
    """A sum of token counts where an unknown part makes the whole unknown (never counted as 0)."""
    return None if first is None or second is None else first + second


def _total_part(first: int | None, second: int | None) -> int | None:
    """A sum of optional token breakdowns (cached, reasoning): known as long as either turn reported it."""
    return None if first is None and second is None else (first or 0) + (second or 0)


def combined(earlier: Completion, later: Completion) -> Completion:
    """Two turns as one answer: the later turn's text and ending, the usage and latency of both, and
    every tool call in order."""
    return replace(
        later,
        input_tokens=_total(earlier.input_tokens, later.input_tokens),
        output_tokens=_total(earlier.output_tokens, later.output_tokens),
        cached_input_tokens=_total_part(earlier.cached_input_tokens, later.cached_input_tokens),
        cache_write_tokens=_total_part(earlier.cache_write_tokens, later.cache_write_tokens),
        reasoning_tokens=_total_part(earlier.reasoning_tokens, later.reasoning_tokens),
        latency_ms=earlier.latency_ms + later.latency_ms,
        tool_calls=(*earlier.tool_calls, *later.tool_calls),
    )
