"""Verdicts that hold their error rates: small-sample tests, exact power, intervals agreeing with the test."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from scipy import stats as sps

from monitor.stats.estimate import Interval, estimate_score
from monitor.stats.power import mcnemar_power
from monitor.stats.verdicts import holm, paired_compare, with_verdicts


def _cr1_se(values: list[float], groups: list[str]) -> float:
    """CR1 cluster-robust SE of a mean, written out: √(G/(G−1) · Σ_g (Σ_i e_ig)²) / n."""
    e = np.array(values) - np.mean(values)
    labels = sorted(set(groups))
    sums = [e[[i for i, g in enumerate(groups) if g == label]].sum() for label in labels]
    g = len(labels)
    return math.sqrt(g / (g - 1) * sum(x * x for x in sums)) / len(values)


def _discordant(n: int, improved: int, regressed: int) -> tuple[list[float], list[float]]:
    """Pass/fail scores of n pairs with these discordant counts, the other pairs agreeing (half pass)."""
    agree = n - improved - regressed
    candidate = [1.0] * improved + [0.0] * regressed + [float(i % 2) for i in range(agree)]
    baseline = [0.0] * improved + [1.0] * regressed + [float(i % 2) for i in range(agree)]
    return candidate, baseline


def _excludes_zero(interval: Interval) -> bool:
    return interval.low > 0 or interval.high < 0


# ---- single scores ----------------------------------------------------------------------------


def test_shared_groups_use_the_cr1_standard_error_with_t_on_g_minus_1_df() -> None:
    scores = [1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]
    groups = ["a", "a", "b", "b", "c", "c", "d", "d", "d", "e"]
    estimate = estimate_score(scores, groups)
    se = _cr1_se(scores, groups)
    half = sps.t.ppf(0.975, 4) * se
    assert (estimate.method, estimate.n_clusters) == ("cluster-t", 5)
    assert estimate.se == pytest.approx(se)
    assert estimate.ci is not None
    assert estimate.ci.low == pytest.approx(max(0.0, 0.6 - half))
    assert estimate.ci.high == pytest.approx(min(1.0, 0.6 + half))


def test_one_group_holding_every_sample_is_no_clustering() -> None:
    scores = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    assert estimate_score(scores, ["doc"] * 6) == estimate_score(scores)


def test_a_clustered_interval_stays_inside_zero_and_one() -> None:
    scores = [0.0] * 27 + [1.0, 1.0, 1.0]
    groups = [f"g{i % 3}" for i in range(27)] + ["g0", "g0", "g0"]
    estimate = estimate_score(scores, groups)
    assert estimate.ci is not None and 0.0 == estimate.ci.low <= estimate.ci.high <= 1.0


def test_a_graded_interval_stays_inside_zero_and_one() -> None:
    estimate = estimate_score([0.95, 1.0, 0.9, 1.0])
    assert estimate.ci is not None and estimate.ci.high == 1.0 and estimate.ci.low > 0.0


# ---- which test ---------------------------------------------------------------------------------


def test_graded_comparison_of_many_samples_is_a_paired_t_test() -> None:
    rng = random.Random(3)
    baseline = [rng.random() for _ in range(80)]
    candidate = [min(1.0, b + rng.gauss(0.05, 0.1)) for b in baseline]
    d = np.array(candidate) - np.array(baseline)
    se = float(d.std(ddof=1) / math.sqrt(len(d)))
    t = sps.t.ppf(0.975, len(d) - 1)
    result = paired_compare(candidate, baseline)
    assert (result.test, result.df) == ("paired-t", 79)
    assert result.se == pytest.approx(se)
    assert result.ci.low == pytest.approx(d.mean() - t * se, rel=1e-6)
    assert result.ci.high == pytest.approx(d.mean() + t * se, rel=1e-6)
    assert result.p_value == pytest.approx(sps.ttest_rel(candidate, baseline).pvalue, rel=1e-6)
    assert result.verdict == "better"


def test_paired_comparison_with_many_shared_groups_is_a_cluster_t_test() -> None:
    groups = [f"doc{i // 3}" for i in range(60)]
    candidate = [1.0 if i % 7 else 0.0 for i in range(60)]
    baseline = [1.0 if (i // 3) % 2 else 0.0 for i in range(60)]
    diffs = [c - b for c, b in zip(candidate, baseline, strict=True)]
    result = paired_compare(candidate, baseline, groups)
    se = _cr1_se(diffs, groups)
    assert (result.test, result.n_clusters, result.df) == ("cluster-t", 20, 19)
    assert result.se == pytest.approx(se)
    assert result.p_value == pytest.approx(2 * sps.t.sf(abs(np.mean(diffs)) / se, 19), rel=1e-6)


def _brute_sign_flip_p(unit_sums: list[float]) -> float:
    observed = abs(sum(unit_sums))
    patterns = list(itertools.product((1, -1), repeat=len(unit_sums)))
    extreme = sum(
        1 for s in patterns if abs(sum(a * b for a, b in zip(s, unit_sums, strict=True))) >= observed - 1e-9
    )
    return extreme / len(patterns)


def test_few_groups_get_an_exact_cluster_sign_flip_test() -> None:
    rng = random.Random(11)
    groups = [f"topic{i % 7}" for i in range(60)]
    candidate = [float(rng.random() < 0.7) for _ in groups]
    baseline = [float(rng.random() < 0.6) for _ in groups]
    sums = [
        sum(c - b for c, b, g in zip(candidate, baseline, groups, strict=True) if g == f"topic{k}")
        for k in range(7)
    ]
    result = paired_compare(candidate, baseline, groups)
    assert (result.test, result.n_clusters) == ("cluster-sign-flip-exact", 7)
    assert result.p_value == pytest.approx(_brute_sign_flip_p(sums))


@pytest.mark.parametrize("n_groups", [2, 3, 5])
def test_too_few_groups_to_ever_reach_alpha_say_so(n_groups: int) -> None:
    groups = [f"g{i % n_groups}" for i in range(60)]
    result = paired_compare([1.0] * 60, [0.0] * 60, groups)
    assert result.min_p >= 0.05
    assert (result.verdict, result.mde) == ("too few groups to tell", None)


def test_a_tiny_graded_suite_uses_the_exact_sign_flip_test_and_cannot_reach_alpha() -> None:
    result = paired_compare([0.9, 0.8, 0.95], [0.2, 0.1, 0.3])
    assert result.test == "sign-flip-exact"
    assert result.p_value == pytest.approx(0.25)
    assert result.verdict == "too small to tell"


def test_zero_spread_with_a_constant_shift_never_gives_p_zero() -> None:
    result = paired_compare([0.6] * 30, [0.5] * 30)
    assert result.se == 0
    assert result.p_value == pytest.approx(2 * 0.5**30)


# ---- power and "too small to tell" ------------------------------------------------------------


def test_identical_models_on_a_suite_that_can_see_5_points_show_no_measurable_difference() -> None:
    result = paired_compare(*_discordant(3000, 150, 150))
    assert result.p_value >= 0.05
    assert result.power >= 0.8
    assert result.verdict == "no measurable difference"


def test_a_60_sample_suite_on_which_the_models_agree_is_too_small_to_tell() -> None:
    scores = [1.0] * 40 + [0.0] * 20
    result = paired_compare(scores, scores)
    assert result.verdict == "too small to tell"
    assert result.mde is not None and result.mde > 0.05


def _exact_mcnemar_power(n: int, psi: float, effect: float, alpha: float = 0.05) -> float:
    """Power of McNemar's exact test by brute force with scipy, over every (discordant, regressed) count."""
    share = (psi + effect) / (2 * psi)
    power = 0.0
    for m in range(1, n + 1):
        weight = sps.binom.pmf(m, n, psi)
        if weight < 1e-12:
            continue
        rejected = [x for x in range(m + 1) if sps.binomtest(x, m, 0.5).pvalue < alpha]
        power += weight * float(sum(sps.binom.pmf(rejected, m, share))) if rejected else 0.0
    return power


@pytest.mark.parametrize(("n", "psi", "effect"), [(60, 0.05, 0.05), (200, 0.2, 0.06), (500, 0.3, 0.05)])
def test_mcnemar_power_is_the_exact_binomial_power(n: int, psi: float, effect: float) -> None:
    exact = _exact_mcnemar_power(n, psi + effect, effect)  # the effect adds its own discordant pairs
    assert mcnemar_power(n, psi, effect, 0.05) == pytest.approx(exact, abs=1e-6)


def test_the_printed_mde_is_the_effect_found_with_80_percent_power() -> None:
    result = paired_compare(*_discordant(500, 50, 50))
    assert result.mde is not None
    psi = float(sps.beta.ppf(0.8, 101, 400)) + result.mde  # the 80% upper bound of the discordance, + δ
    assert _exact_mcnemar_power(500, psi, result.mde) == pytest.approx(0.8, abs=0.005)


def test_the_holm_family_raises_the_minimum_detectable_effect() -> None:
    alone = paired_compare(*_discordant(800, 60, 60))
    family = with_verdicts([alone] * 4, alpha=0.05)
    assert alone.mde is not None and family[0].mde is not None
    assert family[0].mde > alone.mde
    assert family[0].power < alone.power


def test_holm_adjustment_can_turn_a_verdict_into_no_verdict() -> None:
    results = [
        paired_compare(*_discordant(400, 30, 15)),
        paired_compare(*_discordant(400, 5, 40)),
        paired_compare(*_discordant(400, 20, 18)),
    ]
    assert results[0].verdict == "better"
    adjusted = with_verdicts(results, alpha=0.05)
    assert [r.p_adjusted for r in adjusted] == pytest.approx(holm([r.p_value for r in results]))
    assert adjusted[0].verdict not in ("better", "worse")
    assert adjusted[1].verdict == "worse"
    assert all(r.family_size == 3 for r in adjusted)


# ---- intervals agree with the test ------------------------------------------------------------


@pytest.mark.parametrize(
    ("improved", "regressed"), [(b, c) for b in range(0, 13, 2) for c in range(0, 13, 3)]
)
def test_the_pass_fail_interval_excludes_zero_exactly_when_mcnemar_rejects(
    improved: int, regressed: int
) -> None:
    result = paired_compare(*_discordant(50, improved, regressed))
    assert _excludes_zero(result.ci) == (result.p_value < 0.05)
    assert result.ci.low <= result.delta <= result.ci.high


def test_no_improvement_and_four_regressions_in_50_is_not_significant_and_its_interval_says_so() -> None:
    result = paired_compare(*_discordant(50, 0, 4))
    assert result.p_value == pytest.approx(0.125)
    assert result.ci.low < 0 < result.ci.high


def test_the_graded_interval_excludes_zero_exactly_when_the_t_test_rejects() -> None:
    rng = random.Random(8)
    for shift in (0.0, 0.02, 0.04, 0.08):
        baseline = [rng.random() for _ in range(40)]
        candidate = [min(1.0, max(0.0, b + shift + rng.gauss(0, 0.15))) for b in baseline]
        result = paired_compare(candidate, baseline)
        assert _excludes_zero(result.ci) == (result.p_value < 0.05)


def test_the_sign_flip_interval_excludes_zero_exactly_when_the_exact_test_rejects() -> None:
    rng = random.Random(4)
    groups = [f"g{i % 8}" for i in range(48)]
    for shift in (0.0, 0.1, 0.3):
        baseline = [rng.random() for _ in groups]
        candidate = [min(1.0, max(0.0, b + shift + rng.gauss(0, 0.2))) for b in baseline]
        result = paired_compare(candidate, baseline, groups)
        assert result.test == "cluster-sign-flip-exact"
        assert _excludes_zero(result.ci) == (result.p_value < 0.05)


def test_after_holm_the_interval_excludes_zero_exactly_when_the_adjusted_p_is_below_alpha() -> None:
    results = [paired_compare(*_discordant(400, 30, 15)), paired_compare(*_discordant(400, 5, 40))]
    adjusted = with_verdicts(results, alpha=0.05)
    for r in adjusted:
        assert r.p_adjusted is not None
        assert _excludes_zero(r.ci) == (r.p_adjusted < 0.05)
    assert adjusted[1].ci_level == pytest.approx(0.975)  # the smaller p is tested at alpha / 2


def test_difference_intervals_stay_inside_minus_one_and_one() -> None:
    result = paired_compare([1.0] * 8, [0.0] * 8)
    assert -1.0 <= result.ci.low <= result.ci.high <= 1.0


def test_the_shown_paired_scores_subtract_to_the_difference() -> None:
    result = paired_compare(*_discordant(120, 10, 25))
    assert result.candidate_mean - result.baseline_mean == pytest.approx(result.delta)


# ---- errors -----------------------------------------------------------------------------------


def _with_candidate_errors(
    candidate: list[float], baseline: list[float], errored: list[bool]
) -> tuple[list[float], list[float], tuple[list[float], list[float], None, list[bool], list[bool]]]:
    keep = [i for i in range(len(candidate)) if not errored[i]]
    failures = [0.0 if errored[i] else candidate[i] for i in range(len(candidate))]
    return (
        [candidate[i] for i in keep],
        [baseline[i] for i in keep],
        (failures, baseline, None, errored, [False] * len(candidate)),
    )


def test_errors_on_the_hard_items_make_the_verdict_inconclusive_not_better() -> None:
    # Equal skill where both answer, but the candidate errors on 30 items the baseline passes.
    candidate, baseline = _discordant(400, 20, 20)
    errored = [20 <= i < 20 or (40 <= i < 400 and baseline[i] == 1.0 and i % 6 == 1) for i in range(400)]
    cand, base, with_errors = _with_candidate_errors(candidate, baseline, errored)
    result = paired_compare(cand, base, with_errors=with_errors)
    assert result.errors is not None and result.errors.candidate_errors == sum(errored) >= 25
    assert result.verdict == "inconclusive: errors"


def test_errors_that_change_nothing_keep_the_verdict() -> None:
    candidate, baseline = _discordant(300, 5, 60)
    cand, base, with_errors = _with_candidate_errors(
        candidate, baseline, [i in (290, 291) for i in range(300)]
    )
    assert paired_compare(cand, base, with_errors=with_errors).verdict == "worse"


def test_the_paired_error_rates_are_compared_with_mcnemar() -> None:
    candidate, baseline = _discordant(100, 10, 10)
    cand, base, with_errors = _with_candidate_errors(candidate, baseline, [i >= 88 for i in range(100)])
    result = paired_compare(cand, base, with_errors=with_errors)
    assert result.errors is not None
    assert result.errors.p_errors == pytest.approx(sps.binomtest(12, 12, 0.5).pvalue)
