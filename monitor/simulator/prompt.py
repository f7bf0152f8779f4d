"""A chat request as the simulator reads it: the system text and the turns, flattened from any API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Prompt:
    """The text of a chat request, flattened: the system text and the turns in order."""

    system: str
    turns: tuple[tuple[str, str], ...]

    @property
    def user(self) -> str:
        """The last user turn (what the model is answering)."""
        for role, text in reversed(self.turns):
            if role == "user":
                return text
        return ""

    @property
    def full_text(self) -> str:
        return self.system + "\n" + "\n".join(f"{role}: {text}" for role, text in self.turns)


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
