"""Prompt engineering in the simulator: a guided prompt helps a weaker model with tools, not a strong one."""

from __future__ import annotations

from monitor.simulator import SimModel
from monitor.simulator.agent import guided, skill_for
from monitor.simulator.prompt import Prompt

SHORT = Prompt(system="You are the support agent. Use the tools.", turns=(("user", "Where is NW-12345?"),))
RULES = Prompt(
    system="Rules:\n- Status: call get_order_status.\n- Refunds: call start_refund.\n- Else: answer.",
    turns=(("user", "Where is NW-12345?"),),
)
EXAMPLE = Prompt(system="", turns=(("user", "2+2?"), ("assistant", "4"), ("user", "3+3?")))


def test_rules_examples_and_step_by_step_count_as_guidance() -> None:
    assert guided(RULES) and guided(EXAMPLE)
    assert guided(Prompt(system="Think step by step.", turns=(("user", "x"),)))
    assert not guided(SHORT)


def test_a_guided_prompt_halves_a_weaker_models_mistakes() -> None:
    weaker = SimModel("gpt-sim-weak", skill=0.7)
    assert skill_for(weaker, SHORT) == 0.7
    assert abs(skill_for(weaker, RULES) - 0.85) < 1e-9


def test_a_strong_model_is_as_good_with_either_prompt() -> None:
    strong = SimModel("gpt-sim-strong", skill=0.9)
    assert skill_for(strong, RULES) == skill_for(strong, SHORT) == 0.9
