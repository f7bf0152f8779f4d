"""Anytime-valid paired test: a betting e-process over paired differences, its p-value and interval.

The differences d_i = candidate − baseline in [−1, 1] are read one sample at a time, in a random
order fixed before the first call (`sample_order`). Two capital processes bet on them:

    E⁺_t = ∏ (1 + λ⁺_i d_i),   E⁻_t = ∏ (1 − λ⁻_i d_i),   E_t = ½ E⁺_t + ½ E⁻_t

with predictable bets λ±_i in [0, BET_CAP] chosen by aGRAPA from the differences before i
(Waudby-Smith & Ramdas, "Estimating means of bounded random variables by betting", JRSS-B 2024).
Under the null (each sample's difference is symmetric about 0, samples independent: the null of
the exact sign-flip and McNemar tests) E_t is a nonnegative martingale with E_0 = 1, so by
Ville's inequality P(sup_t E_t ≥ 1/a) ≤ a: rejecting the first time E_t ≥ 1/a, at any stopping
time at all, has type-I error ≤ a, and p = 1/max_s E_s is an anytime-valid p-value.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The share of alpha the sequential test may spend; the fixed-n test at the end gets the rest
# (weighted Bonferroni per suite: `combined_p`).
SEQUENTIAL_SHARE = 0.5
# Bets stay below 1 so a wager never loses all the capital on one sample.
BET_CAP = 0.75
# aGRAPA's running variance starts from this prior (weight one sample) so early bets stay small.
PRIOR_VARIANCE = 0.25


@dataclass(frozen=True)
class SequentialInfo:
    """What the sequential test saw: the first `read` of `total` samples in the run's random order, `n`
    of them paired (answered by both models).

    `p_value` is 1 / max E over those samples (anytime-valid); `stopped` says the run ended there
    because the test rejected; `p_fixed` is the fixed-n test's p on every sample (None when stopped).
    """

    n: int
    total: int
    read: int
    p_value: float
    max_e: float
    stopped: bool
    share: float = SEQUENTIAL_SHARE
    p_fixed: float | None = None


class BettingEProcess:
    """The two-sided betting e-process for differences in [−1, 1] against the mean `null` (usually 0)."""

    def __init__(self, null: float = 0.0) -> None:
        self.null = null
        self.n = 0
        self._sum = 0.0
        self._squares = 0.0
        self._log_up = 0.0
        self._log_down = 0.0
        self.max_e = 1.0

    def _bets(self) -> tuple[float, float]:
        """aGRAPA's bets from the past only: λ = μ̂ / (σ̂² + μ̂²), capped so no factor reaches 0."""
        mean = self._sum / (self.n + 1)
        variance = (PRIOR_VARIANCE + self._squares) / (self.n + 1)
        raw = mean / (variance + mean * mean)
        # x = d − null lies in [−1 − null, 1 − null]: 1 + λx > 0 needs λ < 1 / (1 + null) (up side).
        up_cap = BET_CAP / (1 + self.null)
        down_cap = BET_CAP / (1 - self.null)
        return min(max(raw, 0.0), up_cap), min(max(-raw, 0.0), down_cap)

    def update(self, d: float) -> None:
        """Bet on one more difference; an unusable sample (errored) is simply not passed in."""
        x = d - self.null
        up, down = self._bets()
        self._log_up += math.log1p(up * x)
        self._log_down += math.log1p(-down * x)
        self._squares += (x - self._sum / (self.n + 1)) ** 2
        self._sum += x
        self.n += 1
        self.max_e = max(self.max_e, self.e_value)

    @property
    def e_value(self) -> float:
        return 0.5 * math.exp(self._log_up) + 0.5 * math.exp(self._log_down)

    @property
    def p_value(self) -> float:
        """1 / max E so far: P(p ≤ a) ≤ a under the null at any stopping time."""
        return min(1.0, 1.0 / self.max_e)

    @property
    def mean(self) -> float:
        return self.null + self._sum / self.n if self.n else 0.0


def e_process(diffs: Iterable[float]) -> BettingEProcess:
    """The e-process against a zero mean after reading `diffs` in order."""
    process = BettingEProcess()
    for d in diffs:
        process.update(d)
    return process


def confidence_sequence(diffs: Sequence[float], level: float) -> tuple[float, float]:
    """The mean differences m that the betting test of "mean = m" has not rejected at `level` on any
    prefix of `diffs` (a 1 − level confidence sequence, valid at a stopping time), by bisection."""
    center = math.fsum(diffs) / len(diffs) if diffs else 0.0

    def rejected(m: float) -> bool:
        process = BettingEProcess(null=m)
        for d in diffs:
            process.update(d)
            if process.max_e >= 1 / level:
                return True
        return False

    def edge(outside: float) -> float:
        if not rejected(outside):
            return outside
        inside = center
        for _ in range(30):
            mid = (inside + outside) / 2
            if rejected(mid):
                outside = mid
            else:
                inside = mid
        return inside

    return edge(-1.0 + 1e-9), edge(1.0 - 1e-9)


def stop_level(alpha: float, family: int) -> float:
    """The level a run may stop at: its share of alpha / (suites in the family), Bonferroni."""
    return SEQUENTIAL_SHARE * alpha / max(1, family)


def combined_p(p_sequential: float, p_fixed: float | None) -> float:
    """The suite's p-value when it was monitored: weighted Bonferroni of the sequential and the fixed-n
    p (P(combined ≤ u) ≤ share·u + (1 − share)·u = u), so Holm across suites stays valid."""
    values = [p_sequential / SEQUENTIAL_SHARE]
    if p_fixed is not None:
        values.append(p_fixed / (1 - SEQUENTIAL_SHARE))
    return min(1.0, *values)


def p_bound(p: float) -> str:
    """`p < 0.01`: the smallest round bound above an anytime-valid p (itself an upper bound)."""
    for bound in (0.001, 0.01, 0.05):
        if p < bound:
            return f"p < {bound:g}"
    return f"p = {p:.3f}"


def sample_order(keys: Iterable[str], seed: int) -> list[str]:
    """The sample keys in the run's random order: sorted, then shuffled by `seed` (reproducible)."""
    order = sorted(keys)
    random.Random(seed).shuffle(order)
    return order
