"""Error bars and paired comparisons of eval scores (Miller 2024, "Adding Error Bars to Evals")."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist

Z_95 = 1.959964
_NORMAL = NormalDist()

VERDICT_BETTER = "better"
VERDICT_WORSE = "worse"
VERDICT_SAME = "no measurable difference"


@dataclass(frozen=True)
class Interval:
    """A closed interval [low, high]."""

    low: float
    high: float


@dataclass(frozen=True)
class ScoreEstimate:
    """A mean score with its standard error and 95% interval; `method` says how they were computed.

    method: "wilson" (pass/fail, independent samples), "clt" (graded, mean ± z·se),
    "clustered" (samples share a group: cluster-robust se), "empty" (no scored samples).
    """

    n: int
    mean: float | None
    se: float | None
    ci: Interval | None
    method: str
    n_clusters: int | None = None


@dataclass(frozen=True)
class PairedResult:
    """Candidate minus baseline on the same samples, with its test and verdict.

    `test` is "mcnemar-exact" (pass/fail, independent samples), "paired-z" (graded) or
    "paired-z-clustered" (samples share a group). `ci` is the 95% interval of `delta` from the
    paired standard error; `mde` is the smallest difference detectable at 80% power at `alpha`.
    `improved`/`regressed` count samples whose score rose/fell.
    """

    n: int
    delta: float
    se: float
    ci: Interval
    p_value: float
    test: str
    verdict: str
    mde: float
    alpha: float
    p_adjusted: float | None = None
    improved: int = 0
    regressed: int = 0
    n_clusters: int | None = None


def z_quantile(p: float) -> float:
    """The standard normal quantile."""
    return _NORMAL.inv_cdf(p)


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


def _is_binary(values: Iterable[float]) -> bool:
    return all(v in (0, 1) for v in values)


def _clusters(groups: Sequence[str | None] | None, n: int) -> list[list[int]] | None:
    """Indices per cluster when some group holds more than one sample; ungrouped samples stand alone."""
    if groups is None:
        return None
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} entries for {n} scores")
    by_group: dict[str, list[int]] = {}
    singles: list[list[int]] = []
    for i, group in enumerate(groups):
        if group is None:
            singles.append([i])
        else:
            by_group.setdefault(group, []).append(i)
    if all(len(members) == 1 for members in by_group.values()):
        return None
    return list(by_group.values()) + singles


def _sample_variance(values: Sequence[float], mean: float) -> float:
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def _clustered_se(values: Sequence[float], mean: float, clusters: list[list[int]]) -> float:
    """Miller (2024) clustered SE: SE_CLT² plus the within-cluster cross terms Σ_c Σ_{i≠j} e_ic·e_jc / n²."""
    n = len(values)
    se2 = _sample_variance(values, mean) / n
    cross = 0.0
    for members in clusters:
        residuals = [values[i] - mean for i in members]
        total = sum(residuals)
        cross += total * total - sum(r * r for r in residuals)
    return math.sqrt(max(0.0, se2 + cross / (n * n)))


def estimate_score(
    scores: Sequence[float],
    groups: Sequence[str | None] | None = None,
    *,
    binary: bool | None = None,
) -> ScoreEstimate:
    """Mean score with standard error and 95% interval.

    Pass/fail scores of independent samples get a Wilson interval; graded scores mean ± z·se
    (central limit theorem); when a group is shared by more than one sample, the clustered
    standard error (never smaller for positively correlated clusters) and mean ± z·se.
    """
    n = len(scores)
    clusters = _clusters(groups, n)
    if n == 0:
        return ScoreEstimate(0, None, None, None, "empty")
    mean = math.fsum(scores) / n
    if binary is None:
        binary = _is_binary(scores)
    if clusters is not None:
        if n < 2:
            return ScoreEstimate(n, mean, None, None, "clustered", len(clusters))
        se = _clustered_se(scores, mean, clusters)
        return ScoreEstimate(
            n, mean, se, Interval(mean - Z_95 * se, mean + Z_95 * se), "clustered", len(clusters)
        )
    if binary:
        se = math.sqrt(mean * (1 - mean) / n)
        return ScoreEstimate(n, mean, se, wilson_interval(math.fsum(scores), n), "wilson")
    if n < 2:
        return ScoreEstimate(n, mean, None, None, "clt")
    se = math.sqrt(_sample_variance(scores, mean) / n)
    return ScoreEstimate(n, mean, se, Interval(mean - Z_95 * se, mean + Z_95 * se), "clt")


def mean_over_repeats(rows: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Per-sample mean over repeats (`--repeat`), so a sample counts once however often it ran."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for key, score in rows:
        sums[key] = sums.get(key, 0.0) + score
        counts[key] = counts.get(key, 0) + 1
    return {key: sums[key] / counts[key] for key in sums}


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: a binomial(b + c, 1/2) test on the discordant pairs."""
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be >= 0")
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    return min(1.0, 2 * tail / 2**n)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the input order (controls the family-wise error rate)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def verdict_for(delta: float, p_value: float, alpha: float) -> str:
    """better / worse when the difference is significant at alpha, else no measurable difference."""
    if p_value < alpha and delta > 0:
        return VERDICT_BETTER
    if p_value < alpha and delta < 0:
        return VERDICT_WORSE
    return VERDICT_SAME


def with_verdicts(results: Sequence[PairedResult], alpha: float) -> list[PairedResult]:
    """Holm-adjust the p-values of one event's suites and recompute each verdict from the adjusted p."""
    adjusted = holm([r.p_value for r in results])
    return [
        replace(r, p_adjusted=p, alpha=alpha, verdict=verdict_for(r.delta, p, alpha))
        for r, p in zip(results, adjusted, strict=True)
    ]


def min_detectable_effect(n: int, sd_diff: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """(z_{1-α/2} + z_power) · sd_diff / √n: the smallest true difference found with this power."""
    if n <= 0:
        return math.inf
    return (z_quantile(1 - alpha / 2) + z_quantile(power)) * sd_diff / math.sqrt(n)


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


def paired_compare(
    candidate: Sequence[float],
    baseline: Sequence[float],
    groups: Sequence[str | None] | None = None,
    *,
    alpha: float = 0.05,
    binary: bool | None = None,
) -> PairedResult:
    """Compare two models on the same samples (position i of both is the same sample).

    Pass/fail scores of independent samples: McNemar's exact test. Graded scores, or samples
    sharing a group: a two-sided normal test on the paired differences, with the clustered
    standard error when groups are shared. The CI of the difference uses the paired standard error.
    """
    n = len(candidate)
    if len(baseline) != n:
        raise ValueError(f"paired_compare needs equal lengths, got {n} and {len(baseline)}")
    if n < 2:
        raise ValueError("paired_compare needs at least 2 paired samples")
    clusters = _clusters(groups, n)
    if binary is None:
        binary = _is_binary(candidate) and _is_binary(baseline)
    diffs = [c - b for c, b in zip(candidate, baseline, strict=True)]
    delta = math.fsum(diffs) / n
    improved = sum(1 for d in diffs if d > 0)
    regressed = sum(1 for d in diffs if d < 0)
    if clusters is not None:
        se = _clustered_se(diffs, delta, clusters)
    else:
        se = math.sqrt(_sample_variance(diffs, delta) / n)
    if binary and clusters is None:
        test = "mcnemar-exact"
        p_value = mcnemar_exact(improved, regressed)
    else:
        test = "paired-z-clustered" if clusters is not None else "paired-z"
        p_value = _normal_p(delta, se)
    # Power never assumes less disagreement than one fully discordant pair: a small suite on
    # which two models happened to agree everywhere is still too small to tell.
    sd_for_power = max(se * math.sqrt(n), math.sqrt(1 / (n + 1)))
    return PairedResult(
        n=n,
        delta=delta,
        se=se,
        ci=Interval(delta - Z_95 * se, delta + Z_95 * se),
        p_value=p_value,
        test=test,
        verdict=verdict_for(delta, p_value, alpha),
        mde=min_detectable_effect(n, sd_for_power, alpha=alpha),
        alpha=alpha,
        improved=improved,
        regressed=regressed,
        n_clusters=len(clusters) if clusters is not None else None,
    )


def _normal_p(delta: float, se: float) -> float:
    """Two-sided p of a normal test; with zero spread, identical pairs give 1 and a constant shift 0."""
    if se == 0:
        return 1.0 if delta == 0 else 0.0
    return min(1.0, 2 * _NORMAL.cdf(-abs(delta) / se))
