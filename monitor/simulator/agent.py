"""Decide what a model answers to a request with tools, a JSON output format or images; plain prompts
go to the text solvers unchanged."""

from __future__ import annotations

from monitor.simulator import images, solve_structured, solve_tools
from monitor.simulator.answers import answer, unit_hash
from monitor.simulator.catalog import SimModel
from monitor.simulator.conversation import Extras
from monitor.simulator.prompt import Prompt

Calls = tuple[tuple[str, str], ...]

GUIDED_SKILL_BELOW = 0.9
"""Models below this skill gain from a guided prompt (rules spelled out, examples, step by step);
stronger ones follow a short prompt as well, as real frontier models mostly do."""


def guided(prompt: Prompt) -> bool:
    """Whether the prompt guides the model: three or more rule lines, a worked example, or "step by step"."""
    rules = sum(
        1 for line in prompt.system.splitlines() if line.lstrip().startswith(("- ", "* ", "1.", "2."))
    )
    examples = any(role == "assistant" for role, _ in prompt.turns[:-1])
    return rules >= 3 or examples or "step by step" in prompt.full_text.lower()


def skill_for(model: SimModel, prompt: Prompt) -> float:
    """The model's skill on this prompt: a guided prompt halves a weaker model's mistakes (prompt
    engineering instead of fine-tuning, which is what a suite's variants compare)."""
    if model.skill < GUIDED_SKILL_BELOW and guided(prompt):
        return model.skill + (1.0 - model.skill) / 2
    return model.skill


def respond(model: SimModel, prompt: Prompt, extras: Extras | None, nonce: str = "") -> tuple[str, Calls]:
    """(text, tool calls as (name, JSON arguments)); right or wrong by the model's skill, deterministic
    per (model, prompt, tools, format, images) unless the model is not deterministic."""
    if extras is None or extras.plain:
        return answer(model, prompt, nonce), ()
    key = extras.key()
    right = unit_hash("agent", model.id, prompt.full_text, key, nonce) < skill_for(model, prompt)
    variant = unit_hash("agent-variant", model.id, prompt.full_text, key, nonce)
    seen = images.answer(prompt.user, extras.images, right, variant) if extras.images else None
    if seen is not None:
        text = seen
    else:
        decision = solve_tools.decide(extras, prompt, right, variant)
        if decision is not None and decision.calls:
            return decision.text or "", decision.calls
        text = decision.text if decision is not None and decision.text else answer(model, prompt, nonce)
    if extras.response_format is None:
        return text, ()
    plain_right = unit_hash(model.id, prompt.full_text, nonce) < model.skill
    return solve_structured.structured(extras.response_format, prompt, text, plain_right, variant), ()
