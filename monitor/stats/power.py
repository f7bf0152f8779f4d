"""Power of the paired tests by their own distributions, and the smallest effect found at a power."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

from monitor.stats.distributions import binom_cdf, binom_pmf, normal_cdf, t_quantile

# Effects are searched to a hundredth of a point, or until the power is within 0.2% of the target.
_EFFECT_TOLERANCE = 1e-4


@lru_cache(maxsize=65536)
def mcnemar_critical(discordant: int, alpha: float) -> int:
    """The largest k with 2·P(Binomial(discordant, ½) ≤ k) < alpha (−1 when no k is): the rejection edge."""
    low, high = -1, discordant // 2
    while low < high:
        mid = (low + high + 1) // 2
        if 2 * binom_cdf(mid, discordant, 0.5) < alpha:
            low = mid
        else:
            high = mid - 1
    return low


def mcnemar_power(n: int, discordance: float, effect: float, alpha: float) -> float:
    """Power of McNemar's exact test on n pairs against a true difference `effect`.

    The effect adds discordant pairs to those already seen (ψ = discordance + |δ|: the candidate
    loses |δ| more samples than it gains, on top of the usual churn), the conservative reading of
    how a real change shows; given m discordant pairs, the number going the effect's way is
    Binomial(m, (ψ + |δ|) / 2ψ).
    """
    effect = abs(effect)
    psi = min(1.0, discordance + effect)
    if psi <= 0 or n <= 0:
        return 0.0
    share = (psi + effect) / (2 * psi)
    mean, sd = n * psi, math.sqrt(n * psi * (1 - psi))
    first, last = max(0, math.floor(mean - 7 * sd - 1)), min(n, math.ceil(mean + 7 * sd + 1))
    weight = binom_pmf(first, n, psi)
    power = 0.0
    for m in range(first, last + 1):
        k = mcnemar_critical(m, alpha)
        if k >= 0 and weight > 1e-13:
            power += weight * (binom_cdf(k, m, share) + 1 - binom_cdf(m - k - 1, m, share))
        # Binomial(n, ψ) weights by recurrence: P(m + 1) = P(m) · (n − m) / (m + 1) · ψ / (1 − ψ).
        weight = weight * (n - m) / (m + 1) * psi / (1 - psi) if psi < 1 else binom_pmf(m + 1, n, psi)
    return min(1.0, power)


def t_power(ncp: float, df: float, alpha: float) -> float:
    """Power of a two-sided t-test at non-centrality `ncp` (Johnson–Welch normal approximation)."""
    if alpha <= 0 or df < 1:
        return 0.0
    crit = t_quantile(1 - alpha / 2, df)
    spread = math.sqrt(1 + crit * crit / (2 * df))
    scale = 1 - 1 / (4 * df)
    return normal_cdf((abs(ncp) * scale - crit) / spread) + normal_cdf((-abs(ncp) * scale - crit) / spread)


def smallest_effect(power_at: Callable[[float], float], target: float, guess: float) -> float | None:
    """The smallest effect in (0, 1] whose power reaches `target` (None when even 1 does not).

    A bracket around `guess` (a normal-approximation estimate), then regula falsi (Illinois): the
    power curve is smooth, so a handful of evaluations suffice where bisection on [0, 1] needs 14.
    """
    low, high = max(_EFFECT_TOLERANCE, min(guess, 1.0) / 1.5), min(1.0, max(guess, _EFFECT_TOLERANCE) * 1.5)
    f_low, f_high = power_at(low) - target, power_at(high) - target
    while f_low >= 0 and low > _EFFECT_TOLERANCE:
        high, f_high = low, f_low
        low = max(_EFFECT_TOLERANCE, low / 2)
        f_low = power_at(low) - target
    if f_low >= 0:
        return low
    while f_high < 0:
        if high >= 1.0:
            return None
        low, f_low = high, f_high
        high = min(1.0, high * 2)
        f_high = power_at(high) - target
    side = 0
    for _ in range(60):
        if high - low <= _EFFECT_TOLERANCE:
            break
        mid = (low * f_high - high * f_low) / (f_high - f_low)
        mid = min(max(mid, low + _EFFECT_TOLERANCE / 4), high - _EFFECT_TOLERANCE / 4)
        f_mid = power_at(mid) - target
        if f_mid >= 0:
            high, f_high = mid, f_mid
            if side == 1:
                f_low /= 2
            side = 1
        else:
            low, f_low = mid, f_mid
            if side == -1:
                f_high /= 2
            side = -1
        if abs(f_mid) < 2e-3:
            return mid if f_mid >= 0 else high
    return high
