"""Power of the paired tests by their own distributions, and the smallest effect found at a power."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

from monitor.distributions import binom_cdf, binom_pmf, normal_cdf, t_quantile

# Effects are searched to a hundredth of a point.
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

    The share of discordant pairs is at least the effect (`max(discordance, |effect|)`); given m
    discordant pairs, the number going the effect's way is Binomial(m, (ψ + |δ|) / 2ψ).
    """
    effect = abs(effect)
    psi = min(1.0, max(discordance, effect))
    if psi <= 0 or n <= 0:
        return 0.0
    share = (psi + effect) / (2 * psi)
    mean, sd = n * psi, math.sqrt(n * psi * (1 - psi))
    first, last = max(0, math.floor(mean - 9 * sd - 1)), min(n, math.ceil(mean + 9 * sd + 1))
    power = 0.0
    for m in range(first, last + 1):
        k = mcnemar_critical(m, alpha)
        if k < 0:
            continue
        reject = binom_cdf(k, m, share) + 1 - binom_cdf(m - k - 1, m, share)
        power += binom_pmf(m, n, psi) * reject
    return min(1.0, power)


def t_power(ncp: float, df: float, alpha: float) -> float:
    """Power of a two-sided t-test at non-centrality `ncp` (Johnson–Welch normal approximation)."""
    if alpha <= 0 or df < 1:
        return 0.0
    crit = t_quantile(1 - alpha / 2, df)
    spread = math.sqrt(1 + crit * crit / (2 * df))
    scale = 1 - 1 / (4 * df)
    return normal_cdf((abs(ncp) * scale - crit) / spread) + normal_cdf((-abs(ncp) * scale - crit) / spread)


def smallest_effect(power_at: Callable[[float], float], target: float) -> float | None:
    """The smallest effect in (0, 1] whose power reaches `target` (None when even 1 does not)."""
    if power_at(1.0) < target:
        return None
    low, high = 0.0, 1.0
    while high - low > _EFFECT_TOLERANCE:
        mid = (low + high) / 2
        if power_at(mid) >= target:
            high = mid
        else:
            low = mid
    return high
