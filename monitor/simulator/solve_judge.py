"""Act as an LLM judge: score an answer against a reference or a rubric, ending with `SCORE: x`."""

from __future__ import annotations

import re

from monitor.simulator.facts import normalise
from monitor.simulator.prompt import Prompt

JUDGE_PREFIX = "you are an impartial grader"
_STOPWORD_TEXT = """
the a an and or of to in on for with that this is are be it its as by at from answer should must
reply response mention mentions include includes clearly correct state states
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _section(text: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S | re.I)
    return match.group(1).strip() if match else None


def solve(prompt: Prompt, right: bool, variant: float) -> str | None:
    if not prompt.system.strip().lower().startswith(JUDGE_PREFIX):
        return None
    text = prompt.user
    answer = _section(text, "answer")
    if answer is None:
        return None
    rubric = _section(text, "rubric") or ""
    reference = _section(text, "reference")
    truth, reason = assess(answer, rubric, reference)
    score = truth if right else min(1.0, max(0.0, 1.0 - truth + (variant - 0.5) * 0.2))
    return f"{reason}\nSCORE: {score:.2f}"


def assess(answer: str, rubric: str, reference: str | None) -> tuple[float, str]:
    """The honest score in [0, 1] and a one-line reason."""
    said = f" {normalise(answer)} "
    if reference:
        wanted = normalise(reference)
        if wanted and f" {wanted} " in said:
            return 1.0, "The answer contains the reference answer."
        words = [w for w in wanted.split() if w not in STOPWORDS]
        found = sum(1 for w in words if f" {w} " in said)
        share = found / len(words) if words else 0.0
        return round(
            share * 0.8, 2
        ), f"The answer matches {found} of {len(words)} key words of the reference."
    quoted = re.findall(r"[\"“']([^\"”']{2,})[\"”']", rubric)
    keys = [normalise(q) for q in quoted] or [
        w for w in dict.fromkeys(normalise(rubric).split()) if len(w) > 3 and w not in STOPWORDS
    ]
    if not keys:
        return 0.5, "The rubric gives nothing specific to check."
    stems = {_stem(word) for word in said.split()}
    found = sum(1 for key in keys if f" {key} " in said or (" " not in key and _stem(key) in stems))
    return round(found / len(keys), 2), f"The answer satisfies {found} of {len(keys)} points of the rubric."


def _stem(word: str) -> str:
    """A crude stem (the first five letters), so "refunds" meets "refund" and "signed" meets "signs"."""
    return word[:5]
