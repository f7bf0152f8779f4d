"""The simulator's answers: it solves the shipped suites' questions (skill 1) or misses them (skill 0)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
import pytest

from monitor.cli.demo import BASELINE, NEW_MODEL, demo_models
from monitor.evals.graders.registry import grade_sample
from monitor.evals.loader import SuiteSpec, load_suite
from monitor.evals.spec import Answer, SampleSpec
from monitor.simulator import SimModel, Simulator
from monitor.simulator.answers import answer
from monitor.simulator.prompt import prompt_from
from monitor.stats.power import mcnemar_power
from monitor.stats.verdicts import VERDICT_BETTER, paired_compare, with_verdicts

EVALS = Path(__file__).resolve().parent.parent / "evals"
SUITES = ["arithmetic", "knowledge", "extraction", "support"]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    models = [
        SimModel("gpt-sim-perfect", skill=1.0, latency_ms=0),
        SimModel("gpt-sim-hopeless", skill=0.0, latency_ms=0),
        SimModel("gpt-sim-coinflip", skill=0.5, latency_ms=0),
        SimModel("gpt-sim-moody", skill=0.5, latency_ms=0, deterministic=False),
    ]
    with Simulator(models=models).running() as running:
        yield running


_clients: dict[str, openai.OpenAI] = {}


def ask(sim: Simulator, model: str, messages: list[dict[str, str]], **params: Any) -> str:
    client = _clients.get(sim.base_url)
    if client is None:
        client = _clients[sim.base_url] = openai.OpenAI(
            api_key="sim-key", base_url=sim.base_url + "/v1", max_retries=0, timeout=30
        )
    done = client.chat.completions.create(model=model, messages=messages, **params)  # type: ignore[arg-type]
    return done.choices[0].message.content or ""


def answers(sim: Simulator, suite: SuiteSpec, model: str) -> list[tuple[SampleSpec, str]]:
    """Every sample's answer, asked over HTTP a few at a time (the suites have hundreds of samples)."""
    params = {k: v for k, v in suite.params.items() if k in ("temperature", "max_tokens", "seed")}
    with ThreadPoolExecutor(max_workers=8) as pool:
        outputs = list(pool.map(lambda s: ask(sim, model, s.messages, **params), suite.samples))
    return list(zip(suite.samples, outputs, strict=True))


def right_by_simple_check(suite: str, sample: SampleSpec, output: str) -> bool:
    """Independent of the graders: the plain facts each suite's target stands for."""
    if suite == "arithmetic":
        numbers = re.findall(r"-?\d+(?:\.\d+)?", output)
        return bool(numbers) and abs(float(numbers[-1]) - float(sample.target)) < 1e-3
    if suite == "knowledge":
        letters = re.findall(r"\b([A-D])\b", output)
        return letters == [sample.target]
    if suite == "extraction":
        try:
            return bool(json.loads(output) == sample.target)
        except ValueError:
            return False
    order = re.search(r"NW-\d{5}", sample.vars["message"])
    assert order is not None
    return (
        order.group(0) in output
        and output.rstrip().endswith("Best regards, Northwind Support")
        and not re.search(r"guarantee|promise", output, re.I)
        and not re.search(r"send us your (current )?password", output, re.I)
        and ("refund" not in output.lower() or "30 days" in output)
    )


# The demo: a new model with skill 0.9 against a baseline with 0.72, on the four shipped suites.
# Right independently, they disagree on 0.9 * 0.28 + 0.72 * 0.1 = 32.4% of samples, the 18-point
# difference included; mcnemar_power adds the difference to the disagreement it is given.
DEMO_DELTA = 0.9 - 0.72
DEMO_DISAGREEMENT_BESIDES_DELTA = 0.9 * (1 - 0.72) + 0.72 * (1 - 0.9) - DEMO_DELTA


@pytest.mark.parametrize("suite_name", SUITES)
def test_each_shipped_suite_is_large_enough_to_see_the_demos_difference(suite_name: str) -> None:
    """99% power for McNemar's exact test at alpha/4 (four suites, Holm) for 0.72 -> 0.9."""
    n = len(load_suite(EVALS / f"{suite_name}.yaml").samples)
    level = 0.05 / len(SUITES)
    assert mcnemar_power(n, DEMO_DISAGREEMENT_BESIDES_DELTA, DEMO_DELTA, level) >= 0.99


def test_the_demo_models_skills_are_the_ones_the_suites_are_sized_for() -> None:
    skills = {m.id: m.skill for m in demo_models()}
    assert skills[NEW_MODEL] - skills[BASELINE] == pytest.approx(DEMO_DELTA)


def test_the_demo_finds_its_new_model_better_on_every_shipped_suite() -> None:
    """The demo's comparison, without the HTTP round trips: simulated answers, the suites' graders."""
    models = {m.id: m for m in demo_models()}

    async def scores(suite: SuiteSpec, model: str) -> list[float]:
        return [
            (
                await grade_sample(
                    suite.graders,
                    Answer(answer(models[model], prompt_from(s.messages))),
                    s,
                    pass_threshold=suite.pass_threshold,
                )
            ).score
            for s in suite.samples
        ]

    compared = []
    for name in SUITES:
        suite = load_suite(EVALS / f"{name}.yaml")
        groups = [s.group for s in suite.samples]
        candidate, baseline = asyncio.run(scores(suite, NEW_MODEL)), asyncio.run(scores(suite, BASELINE))
        compared.append(paired_compare(candidate, baseline, groups))
    verdicts = [r.verdict for r in with_verdicts(compared, alpha=0.05)]
    assert verdicts == [VERDICT_BETTER] * len(SUITES)


@pytest.mark.parametrize("suite_name", SUITES)
def test_a_perfect_model_answers_every_sample_right(sim: Simulator, suite_name: str) -> None:
    suite = load_suite(EVALS / f"{suite_name}.yaml")
    wrong = [
        s.key
        for s, out in answers(sim, suite, "gpt-sim-perfect")
        if not right_by_simple_check(suite_name, s, out)
    ]
    assert wrong == []


@pytest.mark.parametrize("suite_name", SUITES)
def test_a_hopeless_model_answers_every_sample_wrong(sim: Simulator, suite_name: str) -> None:
    suite = load_suite(EVALS / f"{suite_name}.yaml")
    right = [
        s.key
        for s, out in answers(sim, suite, "gpt-sim-hopeless")
        if right_by_simple_check(suite_name, s, out)
    ]
    assert right == []


@pytest.mark.parametrize(
    ("suite_name", "model", "expected"),
    [(n, "gpt-sim-perfect", True) for n in SUITES] + [(n, "gpt-sim-hopeless", False) for n in SUITES],
)
def test_the_suites_own_graders_agree(sim: Simulator, suite_name: str, model: str, expected: bool) -> None:
    suite = load_suite(EVALS / f"{suite_name}.yaml")

    async def grade_all() -> list[bool]:
        return [
            (await grade_sample(suite.graders, Answer(out), s, pass_threshold=suite.pass_threshold)).passed
            for s, out in answers(sim, suite, model)
        ]

    assert set(asyncio.run(grade_all())) == {expected}


def test_a_half_skilled_model_gets_about_half_right(sim: Simulator) -> None:
    suite = load_suite(EVALS / "arithmetic.yaml")
    right = sum(
        right_by_simple_check("arithmetic", s, out) for s, out in answers(sim, suite, "gpt-sim-coinflip")
    )
    assert 0.3 * len(suite.samples) <= right <= 0.7 * len(suite.samples)


def test_answers_are_deterministic_per_model_and_prompt(sim: Simulator) -> None:
    messages = [
        {"role": "user", "content": "What is the capital of Spain?\n\nA) Madrid\nB) Rome\nC) Lima\nD) Oslo"}
    ]
    first = [ask(sim, "gpt-sim-coinflip", messages) for _ in range(3)]
    assert len(set(first)) == 1


def test_a_non_deterministic_model_varies_between_requests(sim: Simulator) -> None:
    outputs = {
        ask(
            sim,
            "gpt-sim-moody",
            [{"role": "user", "content": f"Sam has {n} pens and buys 2 more. How many pens?"}],
        )
        for n in [5] * 12
    }
    assert len(outputs) > 1


def test_wrong_arithmetic_is_a_near_miss(sim: Simulator) -> None:
    output = ask(
        sim,
        "gpt-sim-hopeless",
        [
            {
                "role": "user",
                "content": "Maria has 12 apples and buys 7 more. How many apples does she have now?",
            }
        ],
    )
    value = float(re.findall(r"\d+", output)[-1])
    assert value != 19 and abs(value - 19) <= 2


JUDGE_SYSTEM = "You are an impartial grader. Score the answer."


def judge(sim: Simulator, model: str, answer: str, rubric: str, reference: str | None = None) -> float:
    parts = [f"<rubric>\n{rubric}\n</rubric>", f"<answer>\n{answer}\n</answer>"]
    if reference is not None:
        parts.append(f"<reference>\n{reference}\n</reference>")
    reply = ask(
        sim,
        model,
        [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}],
    )
    lines = reply.strip().splitlines()
    assert lines[-1].startswith("SCORE: ")
    return float(lines[-1].removeprefix("SCORE: "))


def test_judge_scores_an_answer_containing_the_reference_high(sim: Simulator) -> None:
    assert (
        judge(sim, "gpt-sim-perfect", "The capital of Kenya is Nairobi.", "Names the capital.", "Nairobi")
        >= 0.9
    )


def test_judge_scores_an_answer_missing_the_reference_low(sim: Simulator) -> None:
    assert judge(sim, "gpt-sim-perfect", "It is Mombasa.", "Names the capital.", "Nairobi") <= 0.2


def test_judge_checks_the_rubrics_quoted_phrases(sim: Simulator) -> None:
    rubric = 'The reply must say "30 days" and "order number".'
    assert judge(sim, "gpt-sim-perfect", "Refunds within 30 days; quote your order number.", rubric) == 1.0
    assert judge(sim, "gpt-sim-perfect", "We refund whenever you like.", rubric) == 0.0


def test_an_unskilled_judge_gets_the_verdict_backwards(sim: Simulator) -> None:
    assert (
        judge(sim, "gpt-sim-hopeless", "The capital of Kenya is Nairobi.", "Names the capital.", "Nairobi")
        <= 0.2
    )


def test_unknown_prompts_get_a_generic_reply(sim: Simulator) -> None:
    assert len(ask(sim, "gpt-sim-perfect", [{"role": "user", "content": "Write a haiku about autumn."}])) > 20


def test_token_counts_grow_with_the_prompt(sim: Simulator) -> None:
    client = openai.OpenAI(api_key="sim-key", base_url=sim.base_url + "/v1", max_retries=0)
    short = client.chat.completions.create(
        model="gpt-sim-perfect", messages=[{"role": "user", "content": "Hi"}]
    )
    long = client.chat.completions.create(
        model="gpt-sim-perfect", messages=[{"role": "user", "content": "Hi " * 400}]
    )
    assert short.usage is not None and long.usage is not None
    assert 250 <= long.usage.prompt_tokens <= 400 < long.usage.prompt_tokens + 1000
    assert short.usage.prompt_tokens < 10


@pytest.mark.parametrize(
    ("question", "expected"), [("2+2?", "4"), ("What is 17 * 3?", "51"), ("10 / 4", "2.5")]
)
def test_bare_expressions_are_computed(sim: Simulator, question: str, expected: str) -> None:
    output = ask(sim, "gpt-sim-perfect", [{"role": "user", "content": question}])
    assert re.findall(r"-?\d+(?:\.\d+)?", output)[-1] == expected
