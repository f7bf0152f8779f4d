"""The betting e-process: valid under the null at any stopping time, fast on large differences."""

from __future__ import annotations

import random

from monitor.stats.sequential import (
    SEQUENTIAL_SHARE,
    BettingEProcess,
    combined_p,
    confidence_sequence,
    e_process,
    p_bound,
    sample_order,
    stop_level,
)
from monitor.stats.verdicts import VERDICT_WORSE, paired_compare, with_verdicts

ALPHA = 0.05


def _pair(rng: random.Random, skill: float, drop: float) -> float:
    """One paired difference: both models see the same difficulty, the candidate `drop` worse."""
    candidate = rng.random() < skill - drop
    baseline = rng.random() < skill
    return float(candidate) - float(baseline)


def _first_crossing(rng: random.Random, n: int, drop: float, level: float) -> int | None:
    process = BettingEProcess()
    for i in range(n):
        skill = rng.betavariate(2.0, 0.5)
        process.update(_pair(rng, skill, drop * skill / 0.8))
        if process.max_e >= 1 / level:
            return i + 1
    return None


def test_aa_rejection_rate_stays_below_alpha_when_peeking_after_every_sample() -> None:
    rng = random.Random(20261201)
    trials = 600
    rejected = sum(1 for _ in range(trials) if _first_crossing(rng, 300, 0.0, ALPHA) is not None)
    # Ville bounds it by 5%; this seed gives 11/600 (1.8%): a broken bet (peeking at the current
    # sample, or no cap) lands far above 5%.
    assert rejected / trials < ALPHA - 0.02


def test_a_large_true_difference_is_rejected_early() -> None:
    rng = random.Random(7)
    crossings = [_first_crossing(rng, 500, 0.3, ALPHA / 4) for _ in range(50)]
    assert all(c is not None for c in crossings)
    assert max(c for c in crossings if c is not None) < 250


def test_constant_differences_grow_the_matching_side_only() -> None:
    worse = e_process([-1.0] * 40)
    assert worse.max_e > 1e6 and worse.mean == -1.0
    assert e_process([0.0] * 1000).max_e == 1.0  # ties carry no evidence either way
    assert e_process([]).p_value == 1.0


def test_confidence_sequence_covers_and_excludes_zero_exactly_when_the_test_rejects() -> None:
    diffs = [-1.0 if i % 3 == 0 else 0.0 for i in range(150)]
    level = 0.05
    low, high = confidence_sequence(diffs, level)
    assert low < -1 / 3 < high < 0
    assert e_process(diffs).p_value <= level
    null_diffs = [1.0, -1.0, 0.0] * 20
    low, high = confidence_sequence(null_diffs, level)
    assert low < 0 < high
    assert e_process(null_diffs).p_value > level


def test_levels_and_combined_p_split_alpha() -> None:
    assert stop_level(ALPHA, 4) == SEQUENTIAL_SHARE * ALPHA / 4
    assert combined_p(0.01, None) == 0.01 / SEQUENTIAL_SHARE
    assert combined_p(0.5, 0.01) == 0.01 / (1 - SEQUENTIAL_SHARE)
    assert combined_p(0.9, 0.9) == 1.0
    assert p_bound(0.004) == "p < 0.01" and p_bound(0.0004) == "p < 0.001" and p_bound(0.2) == "p = 0.200"


def test_sample_order_is_reproducible_and_not_the_file_order() -> None:
    keys = [f"k{i:03d}" for i in range(100)]
    assert sample_order(keys, 42) == sample_order(reversed(keys), 42)
    assert sample_order(keys, 42) != keys and sorted(sample_order(keys, 42)) == keys
    assert sample_order(keys, 42) != sample_order(keys, 43)


def test_a_stopped_suite_is_judged_by_the_sequential_test_and_passes_holm_at_alpha_over_k() -> None:
    rng = random.Random(3)
    cand = [float(rng.random() < 0.4) for _ in range(120)]
    base = [float(rng.random() < 0.9) for _ in range(120)]
    stopped = paired_compare(cand, base, alpha=ALPHA, monitored=(500, True, 120))
    assert stopped.sequential is not None and stopped.sequential.stopped
    assert stopped.test == "betting e-process" and stopped.mde is None
    assert stopped.verdict == VERDICT_WORSE
    assert stopped.ci.high < 0
    assert stopped.p_value == stopped.sequential.p_value / SEQUENTIAL_SHARE
    equal = paired_compare(base, base, alpha=ALPHA)
    family = with_verdicts([stopped, equal, equal, equal], ALPHA)
    assert family[0].verdict == VERDICT_WORSE and family[0].ci.high < 0


def test_a_monitored_complete_suite_tests_its_fixed_part_at_the_rest_of_alpha() -> None:
    rng = random.Random(11)
    cand = [float(rng.random() < 0.72) for _ in range(400)]
    base = [float(rng.random() < 0.8) for _ in range(400)]
    plain = paired_compare(cand, base, alpha=ALPHA)
    monitored = paired_compare(cand, base, alpha=ALPHA, monitored=(400, False, 400))
    assert monitored.sequential is not None and monitored.sequential.p_fixed == plain.p_value
    assert monitored.p_value == combined_p(monitored.sequential.p_value, plain.p_value)
    assert monitored.p_value >= plain.p_value
    assert monitored.mde is not None and plain.mde is not None and monitored.mde > plain.mde
