"""How many samples a pass/fail suite needs to detect a difference, by McNemar's exact power.

    python bench/suite_size.py              # the table in docs/statistics.md (80% power, 5 and 10 points)
    python bench/suite_size.py --power 0.9 --effects 0.03 0.05 --disagreements 0.05 0.15 0.25
    python bench/suite_size.py --demo       # are the shipped suites large enough for the demo?

The power is the one the verdicts use (monitor.stats.power.mcnemar_power): McNemar's exact test on n
pairs of answers. The disagreement is ψ̂, the share of samples on which exactly one of the two
models is right; as in the verdicts' power, a true difference δ is taken to add its own discordant
samples to it (ψ = ψ̂ + δ), the conservative reading. A family of k suites is tested with Holm; a
suite in it is planned at alpha/k, the level of Holm's first step (later steps get more).

The verdict "no measurable difference" takes the power at an 80% upper confidence bound of the
disagreement the suite observed, so a suite needs somewhat more samples than the table says to
earn that verdict (5–10% more at these sizes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.stats.power import mcnemar_power  # noqa: E402

# The demo (monitor/cli/demo.py): the new model's skill and the baseline's.
DEMO_CANDIDATE, DEMO_BASELINE = 0.9, 0.72
DEMO_SUITES = ("arithmetic", "extraction", "knowledge", "support")


def samples_needed(disagreement: float, effect: float, alpha: float, power: float) -> int:
    """The smallest n whose power reaches `power` (bisection on n; the exact power is nearly monotone)."""
    low, high = 1, 2
    while mcnemar_power(high, disagreement, effect, alpha) < power:
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        if mcnemar_power(mid, disagreement, effect, alpha) >= power:
            high = mid
        else:
            low = mid
    return high


def table(disagreements: list[float], effects: list[float], alpha: float, power: float, family: int) -> str:
    header = ["models disagree on (ψ̂)"]
    for effect in effects:
        header += [f"{effect * 100:g} points, one suite", f"{effect * 100:g} points, {family} suites (Holm)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for disagreement in disagreements:
        cells = [f"{disagreement:.0%} of samples"]
        for effect in effects:
            cells += [
                f"{samples_needed(disagreement, effect, alpha, power):,}",
                f"{samples_needed(disagreement, effect, alpha / family, power):,}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def demo(alpha: float) -> int:
    """Print the shipped suites' power for the demo's difference; exit status 1 below 99%.

    The demo's models are right independently, with chances 0.9 and 0.72: they disagree on
    ψ = 0.9·0.28 + 0.72·0.1 = 32.4% of samples, which already includes the 18-point difference,
    so its exact power is mcnemar_power's with ψ̂ = ψ − δ = 14.4%. The conservative reading
    (ψ̂ = 32.4%, as if the difference came on top of that much disagreement) is printed too.
    """
    from monitor.evals.examples import EXAMPLE_SUITES
    from monitor.evals.loader import load_suite

    effect = DEMO_CANDIDATE - DEMO_BASELINE
    disagreement = DEMO_CANDIDATE * (1 - DEMO_BASELINE) + DEMO_BASELINE * (1 - DEMO_CANDIDATE)
    churn = disagreement - effect
    level = alpha / len(DEMO_SUITES)
    print(
        f"demo: {DEMO_BASELINE:.0%} -> {DEMO_CANDIDATE:.0%}, {effect * 100:.0f} points; the models disagree "
        f"on {disagreement:.1%} of samples; McNemar exact at alpha/{len(DEMO_SUITES)} = {level:g}"
    )
    print(
        f"  99% power from {samples_needed(churn, effect, level, 0.99)} samples "
        f"(conservative reading: {samples_needed(disagreement, effect, level, 0.99)})"
    )
    worst = 1.0
    for name in DEMO_SUITES:
        n = len(load_suite(EXAMPLE_SUITES / f"{name}.yaml").samples)
        power = mcnemar_power(n, churn, effect, level)
        worst = min(worst, power)
        conservative = mcnemar_power(n, disagreement, effect, level)
        print(f"  {name:<11} {n:>4} samples: power {power:.2%} (conservative reading {conservative:.1%})")
    return 0 if worst >= 0.99 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--power", type=float, default=0.8)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--family", type=int, default=4, help="suites compared together (Holm)")
    parser.add_argument("--effects", type=float, nargs="+", default=[0.05, 0.10])
    parser.add_argument("--disagreements", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.4])
    parser.add_argument("--demo", action="store_true", help="check the shipped suites against the demo")
    args = parser.parse_args()
    if args.demo:
        return demo(args.alpha)
    print(
        f"Samples for {args.power:.0%} power (McNemar's exact test, alpha {args.alpha:g}; "
        f"{args.family} suites: alpha/{args.family} each)\n"
    )
    print(table(args.disagreements, args.effects, args.alpha, args.power, args.family))
    return 0


if __name__ == "__main__":
    sys.exit(main())
