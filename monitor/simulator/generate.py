"""Turns one chat request into a reply: the answer, the latency wait, token counts and the max-token cut."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from monitor.simulator.answers import answer, count_tokens
from monitor.simulator.catalog import SimModel
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


def content_text(content: Any) -> str:
    """A message's text: a plain string, or the text parts of a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif isinstance(block, str):
                parts.append(block)
        return "\n".join(parts)
    return ""


def prompt_from(messages: list[Any], system: Any = None) -> Prompt:
    """Flatten OpenAI-style messages (system turns included) and an optional Anthropic `system`."""
    system_parts = [content_text(system)] if system else []
    turns: list[tuple[str, str]] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = str(message.get("role", "user"))
        text = content_text(message.get("content"))
        if role in ("system", "developer"):
            system_parts.append(text)
        else:
            turns.append((role, text))
    return Prompt(system="\n".join(system_parts), turns=tuple(turns))


async def generate(
    model: SimModel, prompt: Prompt, max_tokens: int | None, latency_scale: float, nonce: str = ""
) -> Reply:
    """Wait the model's latency, then answer; output beyond `max_tokens` is cut with finish "length"."""
    delay = model.latency_ms + _jitter.uniform(-model.latency_jitter_ms, model.latency_jitter_ms)
    delay = max(0.0, delay) * latency_scale / 1000.0
    if delay > 0:
        await asyncio.sleep(delay)
    text = answer(model, prompt, nonce if not model.deterministic else "")
    input_tokens = count_tokens(prompt.system) + sum(count_tokens(t) + 3 for _, t in prompt.turns)
    output_tokens = count_tokens(text)
    reasoning = REASONING_TOKENS if model.reasoning else 0
    finish = "stop"
    if max_tokens is not None and output_tokens + reasoning > max_tokens:
        finish = "length"
        budget = max(0, max_tokens - reasoning)
        reasoning = min(reasoning, max_tokens)
        text = text[: budget * 4]
        output_tokens = count_tokens(text) if text else 0
    return Reply(text, finish, input_tokens, output_tokens + reasoning, reasoning)
