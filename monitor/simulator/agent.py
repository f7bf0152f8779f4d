"""Decide what a model answers to a request with tools, a JSON output format or images; plain prompts
go to the text solvers unchanged."""

from __future__ import annotations

from monitor.simulator import images, solve_structured, solve_tools
from monitor.simulator.answers import answer, unit_hash
from monitor.simulator.catalog import SimModel
from monitor.simulator.conversation import Extras
from monitor.simulator.prompt import Prompt

Calls = tuple[tuple[str, str], ...]


def respond(model: SimModel, prompt: Prompt, extras: Extras | None, nonce: str = "") -> tuple[str, Calls]:
    """(text, tool calls as (name, JSON arguments)); right or wrong by the model's skill, deterministic
    per (model, prompt, tools, format, images) unless the model is not deterministic."""
    if extras is None or extras.plain:
        return answer(model, prompt, nonce), ()
    key = extras.key()
    right = unit_hash("agent", model.id, prompt.full_text, key, nonce) < model.skill
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
