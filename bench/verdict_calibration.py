"""Calibrate the verdicts on real-shaped suites: false alarms, power, and the truth of the printed MDE.

Run: python bench/verdict_calibration.py [--trials 1000] [--power-trials 400] [--alpha 0.05] [--jobs 2]
     [--early-stop-only]

Each scenario draws suites of samples answered by two simulated models and runs them through the
real comparison code (monitor.stats.verdicts.paired_compare and with_verdicts, with the errors-as-failures
check that monitor.pipeline.compare.pairing builds from stored results). Per scenario it prints:
- the A/A false-alarm rate (two models of equal skill called "better" or "worse") with its 95%
  interval; the goal is at most alpha within Monte-Carlo error;
- the power against a true 5-point drop (the share of trials that say "worse");
- the median MDE printed on the A/A suites, and the actual power of a true drop of that size
  (the goal: at least 75% where 80% is claimed);
- how the A/A verdicts split between "no measurable difference" and the undecided ones.

Then early stopping (docs/statistics.md "Early stopping"): suites of 500 pass/fail samples with shared
difficulty run through the runner's live sequential test (monitor.pipeline.run.stopping.StopMonitor)
at its share of alpha / K for K = 1 and 4 suites, and through the p-value a stopped or complete
monitored run's verdict follows;
it prints the A/A false-alarm rate (per suite, and family-wise over 4 monitored suites with Holm), and
for true drops of 0, 5, 10 and 20 points the share called worse and the fraction of samples spent,
beside the same suites without early stopping (every sample, the fixed-n test alone).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from monitor.pipeline.run.stopping import StopMonitor
from monitor.stats.estimate import wilson_interval
from monitor.stats.paired import pair_data, run_test
from monitor.stats.sequential import combined_p, e_process, stop_level
from monitor.stats.verdicts import (
    VERDICT_BETTER,
    VERDICT_ERRORS,
    VERDICT_FEW_GROUPS,
    VERDICT_SAME,
    VERDICT_TOO_SMALL,
    VERDICT_WORSE,
    ErrorInputs,
    direction_of,
    holm,
    paired_compare,
    with_verdicts,
)

Draw = tuple[list[float], list[float], list[str | None] | None, ErrorInputs | None]


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _beta_skills(rng: random.Random, n: int, a: float, b: float) -> list[float]:
    """Per-sample chance of a right answer, shared by both models (hard questions are hard for all)."""
    return [rng.betavariate(a, b) for _ in range(n)]


def _answers(rng: random.Random, skills: list[float], scale: float, repeats: int = 1) -> list[float]:
    return [sum(rng.random() < p * scale for _ in range(repeats)) / repeats for p in skills]


@dataclass(frozen=True)
class Scenario:
    """A way of drawing suites; `mean` is the population mean score that a drop is taken from."""

    name: str
    n: int
    mean: float
    draw: Callable[[random.Random, int, float], Draw]


def _independent(rng: random.Random, n: int, scale: float) -> Draw:
    skills = [0.8] * n
    return _answers(rng, skills, scale), _answers(rng, skills, 1.0), None, None


def _shared_difficulty(rng: random.Random, n: int, scale: float) -> Draw:
    skills = _beta_skills(rng, n, 2.0, 0.5)
    return _answers(rng, skills, scale), _answers(rng, skills, 1.0), None, None


def _repeats(rng: random.Random, n: int, scale: float) -> Draw:
    skills = _beta_skills(rng, n, 2.0, 0.5)
    return _answers(rng, skills, scale, 3), _answers(rng, skills, 1.0, 3), None, None


def _clustered(groups: int) -> Callable[[random.Random, int, float], Draw]:
    """Topics shared by both models (a hard topic is hard for all) plus a model-by-topic effect.

    With one group there is no between-group variation, so no model-by-topic effect either: the
    suite is one topic, and its samples are independent given it.
    """
    interaction = 0.6 if groups > 1 else 0.0

    def draw(rng: random.Random, n: int, scale: float) -> Draw:
        topic = [rng.gauss(0, 1) for _ in range(groups)]
        cand_topic = [rng.gauss(0, interaction) for _ in range(groups)]
        base_topic = [rng.gauss(0, interaction) for _ in range(groups)]
        labels = [i % groups for i in range(n)]
        sample = [rng.gauss(0, 0.7) for _ in range(n)]
        cand = [
            float(rng.random() < scale * _sigmoid(1.4 + topic[g] + cand_topic[g] + s))
            for g, s in zip(labels, sample, strict=True)
        ]
        base = [
            float(rng.random() < _sigmoid(1.4 + topic[g] + base_topic[g] + s))
            for g, s in zip(labels, sample, strict=True)
        ]
        return cand, base, [f"topic{g}" for g in labels], None

    return draw


def _graded(rng: random.Random, n: int, scale: float) -> Draw:
    """Grades in [0, 1] around a per-sample quality shared by both models (judge-style scores)."""
    quality = _beta_skills(rng, n, 4.0, 1.5)
    concentration = 8.0

    def grade(q: float) -> float:
        q = min(max(q, 1e-3), 1 - 1e-3)
        return rng.betavariate(q * concentration, (1 - q) * concentration)

    return [grade(q * scale) for q in quality], [grade(q) for q in quality], None, None


def _errors_on_hard_items(rng: random.Random, n: int, scale: float) -> Draw:
    """Both models err more on hard items; a worse candidate also errs twice as often there."""
    skills = _beta_skills(rng, n, 2.0, 0.5)
    cand_rate, base_rate = (0.3 if scale < 1 else 0.15), 0.15
    cand_all = _answers(rng, skills, scale)
    base_all = _answers(rng, skills, 1.0)
    cand_err = [rng.random() < cand_rate * (1 - p) for p in skills]
    base_err = [rng.random() < base_rate * (1 - p) for p in skills]
    keep = [i for i in range(n) if not cand_err[i] and not base_err[i]]
    with_errors: ErrorInputs = (
        [0.0 if cand_err[i] else cand_all[i] for i in range(n)],
        [0.0 if base_err[i] else base_all[i] for i in range(n)],
        None,
        cand_err,
        base_err,
    )
    return [cand_all[i] for i in keep], [base_all[i] for i in keep], None, with_errors


def _population_mean(draw: Callable[[random.Random, int, float], Draw], n: int) -> float:
    rng = random.Random(12345)
    values = [v for _ in range(max(1, 20_000 // n)) for v in draw(rng, n, 1.0)[1]]
    return statistics.fmean(values)


def _scenarios() -> list[Scenario]:
    specs: list[tuple[str, int, Callable[[random.Random, int, float], Draw]]] = [
        ("independent pass/fail", 500, _independent),
        ("shared difficulty", 500, _shared_difficulty),
        ("3 repeats per sample", 300, _repeats),
        *((f"{g} group{'s' if g > 1 else ''}", 200, _clustered(g)) for g in (1, 2, 5, 7, 20, 50)),
        *((f"graded, n = {n}", n, _graded) for n in (3, 5, 10, 30)),
        ("errors on hard items", 500, _errors_on_hard_items),
    ]
    return [Scenario(name, n, _population_mean(draw, n), draw) for name, n, draw in specs]


SCENARIOS = {s.name: s for s in _scenarios()}


def _trials(args: tuple[str, float, int, int, float]) -> list[tuple[str, float | None]]:
    """Verdict and printed MDE of `count` trials of one scenario with a true drop `drop`."""
    name, drop, first_seed, count, alpha = args
    scenario = SCENARIOS[name]
    scale = 1 - drop / scenario.mean
    out: list[tuple[str, float | None]] = []
    for seed in range(first_seed, first_seed + count):
        rng = random.Random(seed * 7919 + int(drop * 1e4))
        cand, base, groups, with_errors = scenario.draw(rng, scenario.n, scale)
        if len(cand) < 2:
            out.append((VERDICT_TOO_SMALL, None))
            continue
        result = paired_compare(cand, base, groups, alpha=alpha, with_errors=with_errors)
        out.append((result.verdict, result.mde))
    return out


def _run(pool: ProcessPoolExecutor, name: str, drop: float, trials: int, alpha: float, jobs: int):  # type: ignore[no-untyped-def]
    size = math.ceil(trials / (jobs * 4))
    chunks = [(name, drop, start, min(size, trials - start), alpha) for start in range(0, trials, size)]
    return [row for part in pool.map(_trials, chunks) for row in part]


def _family_false_alarms(trials: int, alpha: float) -> int:
    """Family-wise A/A false alarms over 3 suites of 250 independent samples, Holm-corrected."""
    alarms = 0
    for trial in range(trials):
        rng = random.Random(10_000 + trial)
        family = []
        for _ in range(3):
            cand, base, _, _ = _independent(rng, 250, 1.0)
            family.append(paired_compare(cand, base, alpha=alpha))
        if any(r.verdict in (VERDICT_BETTER, VERDICT_WORSE) for r in with_verdicts(family, alpha)):
            alarms += 1
    return alarms


EARLY_N = 500
EARLY_DROPS = (0.0, 0.05, 0.10, 0.20)


def _suite_ps(
    rng: random.Random, drop: float, family: int, alpha: float
) -> tuple[float, float, float, float]:
    """One suite: (delta, p without early stopping, p with it, fraction of samples spent).

    The p-values are the ones `paired_compare` gives (the fixed-n test's; with monitoring, the
    combination of the e-process and the fixed-n test, or the e-process alone once stopped); the
    MDE, which these figures do not need, is left out to keep the bench fast.
    """
    scenario = SCENARIOS["shared difficulty"]
    cand, base, _, _ = scenario.draw(rng, EARLY_N, 1 - drop / scenario.mean)
    keys = [f"s{i:04d}" for i in range(EARLY_N)]
    monitor = StopMonitor(
        order=keys,  # the draws are already in a random order
        repeat=1,
        level=stop_level(alpha, family),
        baseline=(dict(zip(keys, base, strict=True)), dict(zip(keys, base, strict=True))),
        total=EARLY_N,
    )
    for key, score in zip(keys, cand, strict=True):
        if monitor.add(key, score, None):
            break
    read = monitor.read
    full = run_test(pair_data(cand, base, None, None))
    delta = math.fsum(cand) - math.fsum(base)
    if monitor.reason is not None:
        seen = pair_data(cand[:read], base[:read], None, None)
        early = combined_p(e_process(seen.diffs).p_value, None)
        delta = math.fsum(seen.diffs)
    else:
        early = combined_p(e_process(c - b for c, b in zip(cand, base, strict=True)).p_value, full.p)
    return delta, full.p, early, read / EARLY_N


def _early_trials(args: tuple[float, int, int, int, float]) -> list[tuple[str | None, str | None, float]]:
    drop, family, first_seed, count, alpha = args
    out = []
    for seed in range(first_seed, first_seed + count):
        rng = random.Random(seed * 104_729 + int(drop * 1e4) + family)
        delta, p_plain, p_early, spent = _suite_ps(rng, drop, family, alpha)
        out.append((direction_of(delta, p_plain, alpha), direction_of(delta, p_early, alpha), spent))
    return out


def _early_family(args: tuple[int, int, float]) -> list[tuple[bool, bool]]:
    """Family-wise A/A over 4 monitored suites, Holm: (any false verdict without, with early stopping)."""
    first_seed, count, alpha = args
    out = []
    for seed in range(first_seed, first_seed + count):
        rng = random.Random(900_000 + seed)
        suites = [_suite_ps(rng, 0.0, 4, alpha) for _ in range(4)]
        plain = holm([p for _, p, _, _ in suites])
        early = holm([p for _, _, p, _ in suites])
        out.append(
            (
                any(direction_of(d, p, alpha) for (d, _, _, _), p in zip(suites, plain, strict=True)),
                any(direction_of(d, p, alpha) for (d, _, _, _), p in zip(suites, early, strict=True)),
            )
        )
    return out


def _chunks(trials: int, jobs: int) -> list[tuple[int, int]]:
    size = math.ceil(trials / (jobs * 4))
    return [(start, min(size, trials - start)) for start in range(0, trials, size)]


def early_stopping(
    pool: ProcessPoolExecutor, trials: int, power_trials: int, alpha: float, jobs: int
) -> bool:
    """Print the early-stopping table; True when every A/A false-alarm rate is within alpha."""
    print()
    print(f"Early stopping: {EARLY_N} pass/fail samples, shared difficulty, alpha {alpha:g}")
    print()
    print(
        "| suites (K) | true drop | called worse (or A/A false alarms), every sample | with early stopping "
        "| samples spent, mean | median | stopped early |"
    )
    print("|---:|---:|---|---|---:|---:|---:|")
    ok = True
    for family in (1, 4):
        for drop in EARLY_DROPS:
            count = trials if drop == 0 else power_trials
            chunks = [(drop, family, start, n, alpha) for start, n in _chunks(count, jobs)]
            rows = [row for part in pool.map(_early_trials, chunks) for row in part]
            spent = [s for _, _, s in rows]
            if drop == 0:
                before = _rate(sum(1 for v, _, _ in rows if v in (VERDICT_BETTER, VERDICT_WORSE)), count)
                alarms = sum(1 for _, v, _ in rows if v in (VERDICT_BETTER, VERDICT_WORSE))
                after = _rate(alarms, count)
                ok &= wilson_interval(alarms, count).low <= alpha
            else:
                before = f"{sum(1 for v, _, _ in rows if v == VERDICT_WORSE) / count:.0%}"
                after = f"{sum(1 for _, v, _ in rows if v == VERDICT_WORSE) / count:.0%}"
            stopped = sum(1 for s in spent if s < 1) / count
            print(
                f"| {family} | {drop * 100:.0f} pts | {before} | {after} | {statistics.fmean(spent):.0%} | "
                f"{statistics.median(spent):.0%} | {stopped:.0%} |",
                flush=True,
            )
    rows_family = [
        row
        for part in pool.map(_early_family, [(s, n, alpha) for s, n in _chunks(trials, jobs)])
        for row in part
    ]
    before = sum(1 for b, _ in rows_family if b)
    after = sum(1 for _, a in rows_family if a)
    ok &= wilson_interval(after, trials).low <= alpha
    print()
    print(
        f"Family-wise A/A false alarms, 4 monitored suites x {EARLY_N} samples, Holm: every sample "
        f"{_rate(before, trials)}; with early stopping {_rate(after, trials)}"
    )
    return ok


def _rate(hits: int, trials: int) -> str:
    ci = wilson_interval(hits, trials)
    return f"{hits / trials:5.1%} ({ci.low:.1%}–{ci.high:.1%})"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000, help="A/A trials per scenario")
    parser.add_argument("--power-trials", type=int, default=400, help="trials per power figure")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--early-stop-only", action="store_true", help="only the early-stopping table")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.early_stop_only:
        with ProcessPoolExecutor(args.jobs) as pool:
            ok = early_stopping(pool, args.trials, args.power_trials, args.alpha, args.jobs)
        print(f"elapsed {time.perf_counter() - started:.0f} s")
        print("early stopping keeps the false alarms within alpha: " + ("yes" if ok else "NO"))
        return 0 if ok else 1
    print(
        f"Verdict calibration: {args.trials} A/A trials, {args.power_trials} per power figure, "
        f"alpha {args.alpha:g}"
    )
    print()
    print(
        "| scenario | n | A/A false alarms (95% CI) | power, 5-pt drop | median MDE | power at that MDE "
        "| A/A: same / undecided |"
    )
    print("|---|---:|---|---:|---:|---:|---|")
    all_ok = True
    with ProcessPoolExecutor(args.jobs) as pool:
        for scenario in SCENARIOS.values():
            aa = _run(pool, scenario.name, 0.0, args.trials, args.alpha, args.jobs)
            alarms = sum(1 for v, _ in aa if v in (VERDICT_BETTER, VERDICT_WORSE))
            calibrated = wilson_interval(alarms, args.trials).low <= args.alpha
            drop5 = _run(pool, scenario.name, 0.05, args.power_trials, args.alpha, args.jobs)
            power5 = sum(1 for v, _ in drop5 if v == VERDICT_WORSE) / len(drop5)
            mdes = [m for _, m in aa if m is not None]
            median_mde = statistics.median(mdes) if len(mdes) * 2 > len(aa) else None
            at_mde = "n/a (cannot reach alpha)"
            if median_mde is not None and median_mde < scenario.mean * 0.95:
                drop_mde = _run(pool, scenario.name, median_mde, args.power_trials, args.alpha, args.jobs)
                power_mde = sum(1 for v, _ in drop_mde if v == VERDICT_WORSE) / len(drop_mde)
                at_mde = f"{power_mde:.0%}" + ("" if power_mde >= 0.75 else " (BELOW 75%)")
                all_ok &= power_mde >= 0.75
            elif median_mde is not None:
                at_mde = "n/a (MDE beyond the score)"
            same = sum(1 for v, _ in aa if v == VERDICT_SAME)
            undecided = {
                label: sum(1 for v, _ in aa if v == verdict)
                for label, verdict in (
                    ("too small", VERDICT_TOO_SMALL),
                    ("few groups", VERDICT_FEW_GROUPS),
                    ("errors", VERDICT_ERRORS),
                )
            }
            split = ", ".join(f"{k} {v / len(aa):.0%}" for k, v in undecided.items() if v)
            mde_text = "none" if median_mde is None else f"{median_mde * 100:.1f} pts"
            flag = "" if calibrated else " ABOVE ALPHA"
            print(
                f"| {scenario.name} | {scenario.n} | {_rate(alarms, args.trials)}{flag} | {power5:.0%} | "
                f"{mde_text} | {at_mde} | same {same / len(aa):.0%}{'; ' + split if split else ''} |",
                flush=True,
            )
            all_ok &= calibrated
        early_ok = early_stopping(pool, args.trials, args.power_trials, args.alpha, args.jobs)
    family = _family_false_alarms(args.trials, args.alpha)
    family_ok = wilson_interval(family, args.trials).low <= args.alpha
    print()
    print(
        "Family-wise A/A false alarms, 3 suites x 250 independent samples, Holm: "
        + _rate(family, args.trials)
    )
    print(f"elapsed {time.perf_counter() - started:.0f} s")
    ok = all_ok and family_ok and early_ok
    print("every scenario within alpha and every printed MDE true: " + ("yes" if ok else "NO"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
