"""The paired tests (McNemar exact, exact sign-flip, paired and cluster t), their intervals and power."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.stats.distributions import (
    binom_cdf,
    binom_upper,
    chi2_quantile,
    clopper_pearson,
    normal_quantile,
    t_quantile,
    t_two_sided_p,
)
from monitor.stats.estimate import Interval, clip_interval, cr1_se, independent_units, is_binary
from monitor.stats.power import mcnemar_power, t_power

POWER = 0.8
# Power is computed at an upper confidence bound of the observed spread, not at the spread itself,
# so that a suite that was lucky to see little disagreement is not called large enough.
NUISANCE_CONFIDENCE = 0.8
# Up to this many independent units (samples or groups) the sign-flip test is enumerated exactly.
EXACT_UNITS = 12


@dataclass(frozen=True)
class PairedData:
    """What a paired test is computed from: per-sample differences and the independent units."""

    diffs: tuple[float, ...]
    units: tuple[tuple[int, ...], ...]
    binary: bool
    clustered: bool


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: a binomial(b + c, 1/2) test on the discordant pairs."""
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be >= 0")
    n = b + c
    if n == 0:
        return 1.0
    return min(1.0, 2 * binom_cdf(min(b, c), n, 0.5))


@dataclass(frozen=True)
class PairedTest:
    name: str
    p: float
    se: float
    df: float | None
    min_p: float


def pair_data(
    candidate: Sequence[float],
    baseline: Sequence[float],
    groups: Sequence[str | None] | None,
    binary: bool | None,
) -> PairedData:
    n = len(candidate)
    if len(baseline) != n:
        raise ValueError(f"paired_compare needs equal lengths, got {n} and {len(baseline)}")
    if binary is None:
        binary = is_binary(candidate) and is_binary(baseline)
    units = independent_units(groups, n)
    diffs = tuple(c - b for c, b in zip(candidate, baseline, strict=True))
    if units is None:
        return PairedData(diffs, tuple((i,) for i in range(n)), binary, clustered=False)
    return PairedData(diffs, units, binary, clustered=True)


def _unit_sums(data: PairedData) -> list[tuple[float, int]]:
    return [(math.fsum(data.diffs[i] for i in members), len(members)) for members in data.units]


def _sign_flip_sums(values: Sequence[float]) -> list[float]:
    """Σ s_g·v_g over every sign pattern s (2^G sums)."""
    sums = [0.0]
    for v in values:
        sums = [x + v for x in sums] + [x - v for x in sums]
    return sums


def _sign_flip_p(values: Sequence[float]) -> float:
    """Exact two-sided sign-flip p-value of Σ v_g (the share of sign patterns at least as extreme)."""
    observed = abs(math.fsum(values))
    sums = _sign_flip_sums(values)
    tol = 1e-9 * max(1.0, observed)
    return sum(1 for x in sums if abs(x) >= observed - tol) / len(sums)


def run_test(data: PairedData) -> PairedTest:
    n = len(data.diffs)
    delta = math.fsum(data.diffs) / n
    g = len(data.units)
    se = cr1_se(data.diffs, delta, data.units) if g >= 2 else 0.0
    if data.binary and not data.clustered:
        improved = sum(1 for d in data.diffs if d > 0)
        regressed = sum(1 for d in data.diffs if d < 0)
        return PairedTest("mcnemar-exact", mcnemar_exact(improved, regressed), se, None, 2 * 0.5**n)
    prefix = "cluster-" if data.clustered else ""
    min_p = 2 * 0.5**g
    if g <= EXACT_UNITS:
        sums = [s for s, _ in _unit_sums(data)]
        return PairedTest(f"{prefix}sign-flip-exact", _sign_flip_p(sums), se, None, min_p)
    name = "cluster-t" if data.clustered else "paired-t"
    if se <= 1e-12 * max(1.0, abs(delta)):
        # Every unit moved by the same amount: as extreme as a sign-flip test can see.
        se = 0.0
        return PairedTest(name, 1.0 if abs(delta) <= 1e-12 else min_p, se, g - 1, min_p)
    return PairedTest(name, t_two_sided_p(delta / se, g - 1), se, g - 1, min_p)


def _mcnemar_interval(data: PairedData, confidence: float) -> Interval:
    """δ = ψ·(2θ−1): Clopper–Pearson for θ (the share of discordant pairs that improved) and ψ.

    θ's interval excludes ½ exactly when McNemar's exact test rejects at 1 − confidence, and
    multiplying by the extreme ψ keeps its sign, so the interval agrees with the test.
    """
    n = len(data.diffs)
    improved = sum(1 for d in data.diffs if d > 0)
    discordant = improved + sum(1 for d in data.diffs if d < 0)
    psi_low, psi_high = clopper_pearson(discordant, n, confidence)
    theta_low, theta_high = clopper_pearson(improved, discordant, confidence) if discordant else (0.0, 1.0)
    low = 2 * theta_low - 1
    high = 2 * theta_high - 1
    return Interval(low * (psi_high if low < 0 else psi_low), high * (psi_high if high > 0 else psi_low))


def _sign_flip_interval(data: PairedData, alpha: float) -> Interval:
    """The shifts δ0 the exact sign-flip test does not reject at alpha (test inversion, by bisection)."""
    units = _unit_sums(data)
    n = len(data.diffs)
    delta = math.fsum(data.diffs) / n
    a = _sign_flip_sums([s for s, _ in units])
    b = _sign_flip_sums([float(k) for _, k in units])
    total_a, total_b = a[0], b[0]

    def p_at(shift: float) -> float:
        observed = abs(total_a - shift * total_b)
        tol = 1e-9 * max(1.0, observed)
        return sum(1 for x, y in zip(a, b, strict=True) if abs(x - shift * y) >= observed - tol) / len(a)

    def edge(outside: float) -> float:
        if p_at(outside) >= alpha:
            return outside
        inside = delta
        for _ in range(40):
            mid = (inside + outside) / 2
            if p_at(mid) >= alpha:
                inside = mid
            else:
                outside = mid
        return inside

    return Interval(edge(-1.0), edge(1.0))


def test_interval(data: PairedData, test: PairedTest, alpha_level: float) -> Interval:
    """The interval of δ at confidence 1 − alpha_level that inverts `test`."""
    n = len(data.diffs)
    delta = math.fsum(data.diffs) / n
    if test.min_p >= alpha_level:
        return Interval(-1.0, 1.0)
    if test.name == "mcnemar-exact":
        return _mcnemar_interval(data, 1 - alpha_level)
    if test.name.endswith("sign-flip-exact"):
        return _sign_flip_interval(data, alpha_level)
    assert test.df is not None
    half = t_quantile(1 - alpha_level / 2, test.df) * test.se
    return clip_interval(delta - half, delta + half, -1, 1)


def power_at(data: PairedData, test: PairedTest, effect: float, alpha_level: float) -> float:
    """Power of `test` against a true difference `effect`, at the spread's upper confidence bound."""
    n = len(data.diffs)
    if test.min_p >= alpha_level:
        return 0.0
    if test.name == "mcnemar-exact":
        discordant = sum(1 for d in data.diffs if d != 0)
        psi = binom_upper(discordant, n, NUISANCE_CONFIDENCE)
        return mcnemar_power(n, psi, effect, alpha_level)
    g = len(data.units)
    df = g - 1
    se_up = test.se * math.sqrt(df / chi2_quantile(1 - NUISANCE_CONFIDENCE, df)) if df >= 1 else math.inf
    # Zero observed spread does not prove zero spread: a difference on a share of samples below
    # the exact upper bound for "none seen" could have been missed.
    se_floor = math.sqrt(binom_upper(0, n, NUISANCE_CONFIDENCE) / n)
    level = alpha_level
    if g <= EXACT_UNITS:
        step = 2 * 0.5**g
        level = math.floor(alpha_level / step + 1e-9) * step
    return t_power(effect / max(se_up, se_floor), df, level)


def effect_guess(data: PairedData, test: PairedTest, alpha_level: float) -> float:
    """A normal-approximation MDE, where the exact search starts."""
    n = len(data.diffs)
    z = normal_quantile(1 - alpha_level / 2) + normal_quantile(POWER)
    if test.name == "mcnemar-exact":
        discordant = sum(1 for d in data.diffs if d != 0)
        return z * math.sqrt(binom_upper(discordant, n, NUISANCE_CONFIDENCE) / n)
    return z * max(test.se, math.sqrt(binom_upper(0, n, NUISANCE_CONFIDENCE) / n))


def min_detectable_effect(n: int, sd_diff: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """(z_{1-α/2} + z_power) · sd_diff / √n: the normal-approximation planning formula for a suite size."""
    if n <= 0:
        return math.inf
    return (normal_quantile(1 - alpha / 2) + normal_quantile(power)) * sd_diff / math.sqrt(n)
