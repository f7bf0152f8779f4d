"""The statistics in monitor/stats/, checked against scipy, numpy and hand computations."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats as sps

from monitor.stats.estimate import estimate_score, mean_over_repeats, percentile, run_score, wilson_interval
from monitor.stats.paired import mcnemar_exact, min_detectable_effect
from monitor.stats.verdicts import holm, paired_compare

Z = sps.norm.ppf(0.975)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_interval_matches_newcombe_1998_published_values(
    successes: int, n: int, low: float, high: float
) -> None:
    interval = wilson_interval(successes, n)
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


def test_wilson_interval_matches_score_test_inversion() -> None:
    # The Wilson interval is the set of p whose score test |p̂ - p| / sqrt(p(1-p)/n) <= z does not reject.
    successes, n = 37, 50
    interval = wilson_interval(successes, n)
    for bound in (interval.low, interval.high):
        statistic = abs(successes / n - bound) / math.sqrt(bound * (1 - bound) / n)
        assert statistic == pytest.approx(Z, rel=1e-5)


def test_pass_fail_scores_get_a_wilson_interval() -> None:
    scores = [1.0] * 18 + [0.0] * 2
    estimate = estimate_score(scores)
    assert estimate.method == "wilson"
    assert estimate.mean == pytest.approx(0.9)
    assert estimate.se == pytest.approx(math.sqrt(0.9 * 0.1 / 20))
    assert estimate.ci == wilson_interval(18, 20)
    assert estimate.ci is not None and estimate.ci.high < 1.0


def test_graded_scores_get_mean_plus_minus_t_standard_error_on_n_minus_1_df() -> None:
    scores = [0.2, 0.5, 0.9, 0.7, 0.4, 0.65, 0.3]
    estimate = estimate_score(scores)
    se = float(np.std(scores, ddof=1) / math.sqrt(len(scores)))
    t = sps.t.ppf(0.975, len(scores) - 1)
    assert estimate.method == "t"
    assert estimate.se == pytest.approx(se)
    assert estimate.ci is not None
    assert estimate.ci.low == pytest.approx(np.mean(scores) - t * se, rel=1e-6)
    assert estimate.ci.high == pytest.approx(np.mean(scores) + t * se, rel=1e-6)


def test_no_scored_samples_has_no_mean() -> None:
    assert estimate_score([]) == estimate_score([], [])
    estimate = estimate_score([])
    assert (estimate.n, estimate.mean, estimate.se, estimate.ci) == (0, None, None, None)


def test_clustered_error_bar_is_wider_than_naive_when_questions_about_one_document_agree() -> None:
    rng = random.Random(1)
    scores: list[float] = []
    groups: list[str] = []
    for doc in range(30):
        hard = rng.random() < 0.5
        for _ in range(5):
            scores.append(0.0 if hard and rng.random() < 0.9 else 1.0)
            groups.append(f"doc{doc}")
    naive = estimate_score(scores)
    clustered = estimate_score(scores, groups)
    assert naive.se is not None and clustered.se is not None
    assert clustered.se > 1.5 * naive.se


def test_groups_of_one_sample_each_change_nothing() -> None:
    scores = [1.0, 0.0, 1.0, 1.0]
    assert estimate_score(scores, ["a", "b", None, "c"]) == estimate_score(scores)


def test_repeats_are_averaged_per_sample_first() -> None:
    rows = [("q1", 1.0), ("q2", 0.0), ("q1", 0.0), ("q2", 0.0), ("q1", 1.0), ("q3", 1.0)]
    assert mean_over_repeats(rows) == {"q1": pytest.approx(2 / 3), "q2": 0.0, "q3": 1.0}


@pytest.mark.parametrize(("b", "c"), [(0, 0), (5, 0), (12, 3), (3, 12), (7, 7), (40, 61), (250, 300)])
def test_mcnemar_exact_equals_a_two_sided_binomial_test_on_discordant_pairs(b: int, c: int) -> None:
    expected = 1.0 if b + c == 0 else sps.binomtest(b, b + c, 0.5).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-9)


def test_holm_matches_a_hand_worked_example() -> None:
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 -> raised to 0.06 (monotone)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_never_exceeds_one() -> None:
    assert holm([0.6, 0.9]) == [1.0, 1.0]


def test_pass_fail_comparison_uses_mcnemar_on_discordant_pairs() -> None:
    candidate = [1] * 60 + [0] * 20 + [1] * 5 + [0] * 15
    baseline = [1] * 60 + [1] * 20 + [0] * 5 + [0] * 15
    result = paired_compare([float(x) for x in candidate], [float(x) for x in baseline])
    assert result.test == "mcnemar-exact"
    assert (result.improved, result.regressed) == (5, 20)
    assert result.p_value == pytest.approx(sps.binomtest(5, 25, 0.5).pvalue)
    assert result.delta == pytest.approx(-0.15)
    assert result.verdict == "worse"


def test_paired_compare_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="equal lengths"):
        paired_compare([1.0, 0.0], [1.0])


def test_minimum_detectable_effect_follows_the_power_formula() -> None:
    expected = (sps.norm.ppf(0.975) + sps.norm.ppf(0.8)) * 0.5 / math.sqrt(500)
    assert min_detectable_effect(500, 0.5) == pytest.approx(expected, rel=1e-6)
    assert min_detectable_effect(500, 0.5, alpha=0.01, power=0.9) == pytest.approx(
        (sps.norm.ppf(0.995) + sps.norm.ppf(0.9)) * 0.5 / math.sqrt(500), rel=1e-6
    )


@pytest.mark.parametrize("q", [0, 25, 50, 90, 95, 100])
def test_percentile_matches_numpy_linear_interpolation(q: float) -> None:
    values = [120.0, 40.0, 85.5, 300.0, 41.0, 77.0, 93.0]
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 50) is None


def test_wilson_interval_reaches_exactly_one_when_every_sample_passed() -> None:
    interval = wilson_interval(29, 29)
    assert interval.high == 1.0
    assert interval.low == pytest.approx(1 - 0.1170, abs=5e-5)


@pytest.mark.parametrize("discordant", [1, 5, 6, 17, 40, 101, 250])
def test_mcnemar_exact_rejects_equal_models_at_most_alpha_of_the_time(discordant: int) -> None:
    # Under no difference each discordant pair is a fair coin: sum P(k) over the k it would reject.
    size = sum(
        sps.binom.pmf(k, discordant, 0.5)
        for k in range(discordant + 1)
        if mcnemar_exact(k, discordant - k) < 0.05
    )
    assert size <= 0.05


def test_a_runs_score_counts_each_sample_once_and_leaves_errors_out() -> None:
    rows = [("a", 1.0, False), ("a", 0.0, False), ("b", 1.0, False), ("c", None, True), ("d", 0.0, True)]
    assert run_score(rows, {}) == estimate_score([0.5, 1.0])
