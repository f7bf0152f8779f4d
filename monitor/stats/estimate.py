"""One score with its error bar: Wilson for pass rates, t for graded means, CR1 cluster t for groups."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from monitor.stats.distributions import (
    t_quantile,
)

Z_95 = 1.959964


@dataclass(frozen=True)
class Interval:
    """A closed interval [low, high]."""

    low: float
    high: float


@dataclass(frozen=True)
class ScoreEstimate:
    """A mean score with its standard error and 95% interval; `method` says how they were computed.

    method: "wilson" (pass/fail, independent samples), "t" (graded: mean ± t·se on n−1 df),
    "cluster-t" (samples share a group: CR1 se, t on G−1 df), "empty" (no scored samples).
    Intervals are clipped to [0, 1], the range of a score.
    """

    n: int
    mean: float | None
    se: float | None
    ci: Interval | None
    method: str
    n_clusters: int | None = None


def wilson_interval(successes: float, n: int, z: float = Z_95) -> Interval:
    """The Wilson score interval for a binomial proportion (good coverage near 0 and 1, unlike p ± z·se)."""
    if n <= 0:
        raise ValueError("wilson_interval needs n >= 1")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be within [0, n], got {successes} of {n}")
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low, high)


def is_binary(values: Iterable[float]) -> bool:
    return all(v in (0, 1) for v in values)


def independent_units(groups: Sequence[str | None] | None, n: int) -> tuple[tuple[int, ...], ...] | None:
    """Indices per independent unit (a group, or an ungrouped sample), or None when there is no clustering.

    No clustering: no groups, every group holds one sample, or every sample is in one group (a
    single group cannot vary between groups, so it tells nothing about clustering).
    """
    if groups is None:
        return None
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} entries for {n} scores")
    by_group: dict[str, list[int]] = {}
    singles: list[tuple[int, ...]] = []
    for i, group in enumerate(groups):
        if group is None:
            singles.append((i,))
        else:
            by_group.setdefault(group, []).append(i)
    if all(len(members) == 1 for members in by_group.values()):
        return None
    if len(by_group) == 1 and not singles:
        return None
    return tuple(tuple(m) for m in by_group.values()) + tuple(singles)


def sample_variance(values: Sequence[float], mean: float) -> float:
    return math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)


def cr1_se(values: Sequence[float], mean: float, units: Sequence[Sequence[int]]) -> float:
    """Cluster-robust standard error of a mean with the CR1 factor G/(G−1) (singletons: s/√n)."""
    n, g = len(values), len(units)
    total = math.fsum(math.fsum(values[i] - mean for i in members) ** 2 for members in units)
    return math.sqrt(g / (g - 1) * total) / n


def clip_interval(low: float, high: float, lo: float, hi: float) -> Interval:
    return Interval(min(max(low, lo), hi), max(min(high, hi), lo))


def estimate_score(
    scores: Sequence[float],
    groups: Sequence[str | None] | None = None,
    *,
    binary: bool | None = None,
) -> ScoreEstimate:
    """Mean score with standard error and 95% interval, inside [0, 1].

    Pass/fail scores of independent samples get a Wilson interval; graded scores mean ± t·se on
    n−1 degrees of freedom; when samples share groups, the CR1 cluster-robust se with t on G−1.
    """
    n = len(scores)
    if n == 0:
        return ScoreEstimate(0, None, None, None, "empty")
    units = independent_units(groups, n)
    mean = math.fsum(scores) / n
    if binary is None:
        binary = is_binary(scores)
    if units is not None:
        se = cr1_se(scores, mean, units)
        half = t_quantile(0.975, len(units) - 1) * se
        return ScoreEstimate(
            n, mean, se, clip_interval(mean - half, mean + half, 0, 1), "cluster-t", len(units)
        )
    if binary:
        se = math.sqrt(mean * (1 - mean) / n)
        return ScoreEstimate(n, mean, se, wilson_interval(math.fsum(scores), n), "wilson")
    if n < 2:
        return ScoreEstimate(n, mean, None, None, "t")
    se = math.sqrt(sample_variance(scores, mean) / n)
    half = t_quantile(0.975, n - 1) * se
    return ScoreEstimate(n, mean, se, clip_interval(mean - half, mean + half, 0, 1), "t")


def mean_over_repeats(rows: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Per-sample mean over repeats (`--repeat`), so a sample counts once however often it ran."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for key, score in rows:
        sums[key] = sums.get(key, 0.0) + score
        counts[key] = counts.get(key, 0) + 1
    return {key: sums[key] / counts[key] for key in sums}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (q in [0, 100]) by linear interpolation between order statistics."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within [0, 100], got {q}")
    if not values:
        return None
    ordered = sorted(values)
    position = q / 100 * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    fraction = position - lower
    return ordered[lower] + (ordered[upper] - ordered[lower]) * fraction


def run_score(
    rows: Iterable[tuple[str, float | None, bool]], groups: Mapping[str, str | None]
) -> ScoreEstimate:
    """A run's score from its results `(sample key, score, errored)`: the one function every stage uses.

    Each sample counts once, with the mean over its answered repeats; errored results are left
    out; samples are taken in key order so every caller gets the very same figures.
    """
    per_sample = mean_over_repeats(
        (key, score) for key, score, errored in rows if not errored and score is not None
    )
    keys = sorted(per_sample)
    return estimate_score([per_sample[k] for k in keys], [groups.get(k) for k in keys])
