"""What a simulated model answers: recognise the prompt kind, solve it, be right with chance `skill`."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

from monitor.simulator.catalog import SimModel
from monitor.simulator.prompt import Prompt

Solver = Callable[[Prompt, bool, float], "str | None"]


def unit_hash(*parts: str) -> float:
    """A stable number in [0, 1) from the parts (the same on every run and machine)."""
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


@functools.cache
def _solvers() -> list[Solver]:
    from monitor.simulator import solve_arithmetic, solve_choice, solve_extraction, solve_judge, solve_support

    return [
        solve_judge.solve,
        solve_support.solve,
        solve_extraction.solve,
        solve_choice.solve,
        solve_arithmetic.solve,
    ]


def answer(model: SimModel, prompt: Prompt, nonce: str = "") -> str:
    """The model's reply. Deterministic per (model id, prompt text) unless the model is not deterministic."""
    return _answer(model.id, model.skill, prompt, nonce)


@functools.lru_cache(maxsize=8192)
def _answer(model_id: str, skill: float, prompt: Prompt, nonce: str) -> str:
    text = prompt.full_text
    u = unit_hash(model_id, text, nonce)
    right = u < skill
    variant = unit_hash("variant", model_id, text, nonce)
    for solver in _solvers():
        reply = solver(prompt, right, variant)
        if reply is not None:
            return reply
    return generic_reply(prompt, variant)


def generic_reply(prompt: Prompt, variant: float) -> str:
    """A plausible answer to a prompt no solver recognises."""
    topic = " ".join(prompt.user.split()[:8]).rstrip("?.!,") or "your message"
    openers = (
        "Thanks for the question.",
        "Good question.",
        "Here is a short answer.",
        "Happy to help.",
    )
    opener = openers[int(variant * len(openers))]
    return (
        f'{opener} Regarding "{topic}": it depends on the details, but in most cases the simplest '
        "approach is the right one. Let me know if you want a longer explanation."
    )


def count_tokens(text: str) -> int:
    """Roughly four characters per token, at least one."""
    return max(1, (len(text) + 3) // 4)
