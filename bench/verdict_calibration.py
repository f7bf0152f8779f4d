"""Calibrate the verdicts: false alarms between equal simulated models, and power against a 5-point drop.

Run: python bench/verdict_calibration.py [--trials 1000] [--samples 500] [--alpha 0.05]

Each trial is a fresh suite of distinct prompts answered by two simulated models. Whether a
simulated model is right is the simulator's own decision (monitor/simulator/answers.py: right
when unit_hash(model id, prompt text) < skill), so answers are deterministic per (model, prompt)
and right with probability `skill`, independently across models and samples.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from statistics import NormalDist

from monitor.simulator.answers import Prompt, unit_hash
from monitor.simulator.catalog import SimModel
from monitor.stats import (
    VERDICT_SAME,
    VERDICT_WORSE,
    paired_compare,
    wilson_interval,
    with_verdicts,
    z_quantile,
)


def right(model: SimModel, prompt: Prompt) -> float:
    """1.0 when the simulator would answer this prompt correctly (the rule inside answers.answer)."""
    return 1.0 if unit_hash(model.id, prompt.full_text, "") < model.skill else 0.0


def suite_prompts(trial: int, samples: int, name: str = "calibration") -> list[Prompt]:
    return [
        Prompt(system="Answer with a number.", turns=(("user", f"[{name} {trial}] What is {i} + {trial}?"),))
        for i in range(samples)
    ]


def scores(model: SimModel, prompts: list[Prompt]) -> list[float]:
    return [right(model, p) for p in prompts]


def theoretical_power(skill_candidate: float, skill_baseline: float, samples: int, alpha: float) -> float:
    """Normal-approximation power of the paired test for independent Bernoulli answers."""
    delta = skill_candidate - skill_baseline
    discordant = skill_candidate * (1 - skill_baseline) + skill_baseline * (1 - skill_candidate)
    se = math.sqrt((discordant - delta**2) / samples)
    z = z_quantile(1 - alpha / 2)
    phi = NormalDist().cdf
    return phi(abs(delta) / se - z) + phi(-abs(delta) / se - z)


def samples_for_power(skill_candidate: float, skill_baseline: float, alpha: float, power: float = 0.8) -> int:
    """Samples the paired test needs to find this difference with `power` (independent errors)."""
    delta = skill_candidate - skill_baseline
    discordant = skill_candidate * (1 - skill_baseline) + skill_baseline * (1 - skill_candidate)
    z = z_quantile(1 - alpha / 2) + z_quantile(power)
    return math.ceil((z / abs(delta)) ** 2 * (discordant - delta**2))


def rate(hits: int, trials: int) -> str:
    ci = wilson_interval(hits, trials)
    return f"{hits / trials:6.1%}  (95% CI {ci.low:.1%} to {ci.high:.1%}, {hits} of {trials})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--skill", type=float, default=0.80, help="baseline skill")
    parser.add_argument("--drop", type=float, default=0.05, help="candidate skill = skill - drop")
    args = parser.parse_args()
    started = time.perf_counter()

    base = SimModel("calib-base", skill=args.skill)
    twin = SimModel("calib-twin", skill=args.skill)
    worse = SimModel("calib-worse", skill=args.skill - args.drop)

    false_alarms = detections = 0
    family_false_alarms = 0
    for trial in range(args.trials):
        prompts = suite_prompts(trial, args.samples)
        base_scores = scores(base, prompts)
        if paired_compare(scores(twin, prompts), base_scores, alpha=args.alpha).verdict != VERDICT_SAME:
            false_alarms += 1
        if paired_compare(scores(worse, prompts), base_scores, alpha=args.alpha).verdict == VERDICT_WORSE:
            detections += 1
        family = [
            paired_compare(scores(twin, ps), scores(base, ps), alpha=args.alpha)
            for ps in (suite_prompts(trial, args.samples // 2, f"suite-{k}") for k in range(3))
        ]
        if any(r.verdict != VERDICT_SAME for r in with_verdicts(family, args.alpha)):
            family_false_alarms += 1

    power = theoretical_power(worse.skill, base.skill, args.samples, args.alpha)
    false_alarm_rate = false_alarms / args.trials
    print("Verdict calibration with the simulator's answering rule (monitor/simulator/answers.py)")
    print(f"  {args.trials} trials, {args.samples} samples per suite, alpha {args.alpha:g}")
    print(f"  false alarms, two models of skill {args.skill:.2f}:        {rate(false_alarms, args.trials)}")
    print(
        f"  family-wise false alarms, 3 suites x {args.samples // 2} (Holm): "
        f"{rate(family_false_alarms, args.trials)}"
    )
    print(
        f"  detection of a {args.drop * 100:.0f}-point drop ({args.skill:.2f} -> {worse.skill:.2f}): "
        f"{rate(detections, args.trials)}"
    )
    print(f"  theoretical power (normal approximation, independent errors): {power:6.1%}")
    needed = samples_for_power(worse.skill, base.skill, args.alpha)
    print(f"  samples needed for 80% power against this drop:              {needed:,}")
    print(f"  elapsed {time.perf_counter() - started:.1f} s")
    ok = false_alarm_rate <= args.alpha
    print("  false-alarm rate <= alpha: " + ("yes" if ok else "NO"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
