"""Answer multiple-choice questions (lettered options) from the built-in fact table."""

from __future__ import annotations

import re

from monitor.simulator.facts import normalise, recall
from monitor.simulator.prompt import Prompt

OPTION = re.compile(r"^\s*\(?([A-H])[).:]\s+(.+?)\s*$", re.M)


def solve(prompt: Prompt, right: bool, variant: float) -> str | None:
    text = prompt.user
    options = OPTION.findall(text)
    letters = [letter for letter, _ in options]
    if len(options) < 2 or letters != sorted(letters):
        return None
    question = OPTION.sub("", text)
    known = recall(question)
    correct = None
    if known is not None:
        wanted = normalise(known)
        correct = next((letter for letter, option in options if normalise(option) == wanted), None)
    if correct is None:
        correct = letters[int(variant * 997) % len(letters)]
    if right:
        letter = correct
    else:
        others = [letter for letter in letters if letter != correct]
        letter = others[int(variant * len(others)) % len(others)]
    return letter if variant < 0.6 else f"The answer is {letter}."
