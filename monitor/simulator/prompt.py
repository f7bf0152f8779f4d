"""A chat request as the simulator reads it: the system text and the turns, flattened."""

from __future__ import annotations

from dataclasses import dataclass


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
