"""Turns one chat request into a reply: the answer, the latency wait, token counts and the max-token cut."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from monitor.simulator.agent import Calls, respond
from monitor.simulator.answers import count_tokens
from monitor.simulator.catalog import SimModel
from monitor.simulator.conversation import Extras
from monitor.simulator.prompt import Prompt

REASONING_TOKENS = 24
_jitter = random.Random()


@dataclass(frozen=True)
class Reply:
    text: str
    finish: str  # "stop" or "length"
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    tool_calls: Calls = ()
    """Function calls as (name, JSON arguments); finish is "tool_calls" when there are any."""


async def generate(
    model: SimModel,
    prompt: Prompt,
    max_tokens: int | None,
    latency_scale: float,
    nonce: str = "",
    extras: Extras | None = None,
) -> Reply:
    """Wait the model's latency, then answer; output beyond `max_tokens` is cut with finish "length"
    (tool calls included: a cut answer calls nothing)."""
    delay = model.latency_ms + _jitter.uniform(-model.latency_jitter_ms, model.latency_jitter_ms)
    delay = max(0.0, delay) * latency_scale / 1000.0
    if delay > 0:
        await asyncio.sleep(delay)
    text, calls = respond(model, prompt, extras, nonce if not model.deterministic else "")
    input_tokens = count_tokens(prompt.system) + sum(count_tokens(t) + 3 for _, t in prompt.turns)
    if extras is not None:
        input_tokens += extras.extra_input_tokens()
    output_tokens = count_tokens(text) if text or not calls else 0
    output_tokens += sum(count_tokens(name + arguments) for name, arguments in calls)
    reasoning = REASONING_TOKENS if model.reasoning else 0
    finish = "tool_calls" if calls else "stop"
    if max_tokens is not None and output_tokens + reasoning > max_tokens:
        finish = "length"
        budget = max(0, max_tokens - reasoning)
        reasoning = min(reasoning, max_tokens)
        text = text[: budget * 4]
        output_tokens = count_tokens(text) if text else 0
        calls = ()
    return Reply(text, finish, input_tokens, output_tokens + reasoning, reasoning, calls)
