"""Error bars and paired comparisons of eval scores, with verdicts whose error rates hold at any size.

Scores: Wilson intervals for pass rates, Student's t for graded means, cluster-robust (CR1) t on
G−1 degrees of freedom when samples share a group. Comparisons: McNemar's exact test for pass/fail,
an exact sign-flip test for few units (samples or groups), a paired (cluster) t-test otherwise.
Each interval inverts the test that gives the verdict, so the two always agree. See docs/statistics.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from monitor.stats.distributions import (
    binom_cdf,
    binom_upper,
    chi2_quantile,
    clopper_pearson,
    normal_quantile,
    t_quantile,
    t_two_sided_p,
)
from monitor.stats.power import mcnemar_power, smallest_effect, t_power

Z_95 = 1.959964

VERDICT_BETTER = "better"
VERDICT_WORSE = "worse"
VERDICT_SAME = "no measurable difference"
VERDICT_TOO_SMALL = "too small to tell"
VERDICT_FEW_GROUPS = "too few groups to tell"
VERDICT_ERRORS = "inconclusive: errors"
VERDICTS = (
    VERDICT_BETTER,
    VERDICT_WORSE,
    VERDICT_SAME,
    VERDICT_TOO_SMALL,
    VERDICT_FEW_GROUPS,
    VERDICT_ERRORS,
)
UNDECIDED = (VERDICT_TOO_SMALL, VERDICT_FEW_GROUPS, VERDICT_ERRORS)

POWER = 0.8
# Power is computed at an upper confidence bound of the observed spread, not at the spread itself,
# so that a suite that was lucky to see little disagreement is not called large enough.
NUISANCE_CONFIDENCE = 0.8
# Up to this many independent units (samples or groups) the sign-flip test is enumerated exactly.
EXACT_UNITS = 12


# The comparison over every sample both models attempted, errors scored 0: candidate scores,
# baseline scores, groups, and which samples errored on each side.
ErrorInputs = tuple[
    Sequence[float], Sequence[float], Sequence[str | None] | None, Sequence[bool], Sequence[bool]
]


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


@dataclass(frozen=True)
class PairedData:
    """What a paired test is computed from: per-sample differences and the independent units."""

    diffs: tuple[float, ...]
    units: tuple[tuple[int, ...], ...]
    binary: bool
    clustered: bool


@dataclass(frozen=True)
class ErrorCheck:
    """The comparison again with errored samples counted as failures, and the paired error rates.

    `n` samples were attempted by both models; `p_errors` is McNemar's exact test of the two error
    rates; `delta_as_failures`/`p_as_failures` are the difference and its p with errors scored 0.
    """

    n: int
    candidate_errors: int
    baseline_errors: int
    p_errors: float
    delta_as_failures: float
    p_as_failures: float
    p_as_failures_adjusted: float | None = None
    data: PairedData | None = field(default=None, repr=False, compare=False, metadata={"json": False})


@dataclass(frozen=True)
class PairedResult:
    """Candidate minus baseline on the same samples, with its test, interval, power and verdict.

    `test`: "mcnemar-exact", "sign-flip-exact" (few samples), "cluster-sign-flip-exact" (few
    groups), "paired-t" or "cluster-t". `candidate_mean`/`baseline_mean` are on the paired samples,
    so they subtract to `delta`. `ci` inverts the test at level `ci_level` (after Holm, the level at
    which this suite was tested), so it excludes 0 exactly when the verdict is better or worse.
    `mde` is the smallest difference found with 80% power at alpha / family size (None: the design
    can never reach alpha); `power` is the power against `min_effect`.
    """

    n: int
    delta: float
    se: float
    ci: Interval
    p_value: float
    test: str
    verdict: str
    mde: float | None
    alpha: float
    candidate_mean: float = 0.0
    baseline_mean: float = 0.0
    ci_level: float = 0.95
    power: float = 0.0
    min_effect: float = 0.05
    family_size: int = 1
    min_p: float = 0.0
    df: float | None = None
    p_adjusted: float | None = None
    improved: int = 0
    regressed: int = 0
    n_clusters: int | None = None
    errors: ErrorCheck | None = None
    data: PairedData | None = field(default=None, repr=False, compare=False, metadata={"json": False})


def z_quantile(p: float) -> float:
    """The standard normal quantile."""
    return normal_quantile(p)


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


def _units(groups: Sequence[str | None] | None, n: int) -> tuple[tuple[int, ...], ...] | None:
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


def _sample_variance(values: Sequence[float], mean: float) -> float:
    return math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)


def _cr1_se(values: Sequence[float], mean: float, units: Sequence[Sequence[int]]) -> float:
    """Cluster-robust standard error of a mean with the CR1 factor G/(G−1) (singletons: s/√n)."""
    n, g = len(values), len(units)
    total = math.fsum(math.fsum(values[i] - mean for i in members) ** 2 for members in units)
    return math.sqrt(g / (g - 1) * total) / n


def _clip(low: float, high: float, lo: float, hi: float) -> Interval:
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
    units = _units(groups, n)
    mean = math.fsum(scores) / n
    if binary is None:
        binary = _is_binary(scores)
    if units is not None:
        se = _cr1_se(scores, mean, units)
        half = t_quantile(0.975, len(units) - 1) * se
        return ScoreEstimate(n, mean, se, _clip(mean - half, mean + half, 0, 1), "cluster-t", len(units))
    if binary:
        se = math.sqrt(mean * (1 - mean) / n)
        return ScoreEstimate(n, mean, se, wilson_interval(math.fsum(scores), n), "wilson")
    if n < 2:
        return ScoreEstimate(n, mean, None, None, "t")
    se = math.sqrt(_sample_variance(scores, mean) / n)
    half = t_quantile(0.975, n - 1) * se
    return ScoreEstimate(n, mean, se, _clip(mean - half, mean + half, 0, 1), "t")


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
    return min(1.0, 2 * binom_cdf(min(b, c), n, 0.5))


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


# ---- the paired test --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Test:
    name: str
    p: float
    se: float
    df: float | None
    min_p: float


def _pair_data(
    candidate: Sequence[float],
    baseline: Sequence[float],
    groups: Sequence[str | None] | None,
    binary: bool | None,
) -> PairedData:
    n = len(candidate)
    if len(baseline) != n:
        raise ValueError(f"paired_compare needs equal lengths, got {n} and {len(baseline)}")
    if binary is None:
        binary = _is_binary(candidate) and _is_binary(baseline)
    units = _units(groups, n)
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


def _run_test(data: PairedData) -> _Test:
    n = len(data.diffs)
    delta = math.fsum(data.diffs) / n
    g = len(data.units)
    se = _cr1_se(data.diffs, delta, data.units) if g >= 2 else 0.0
    if data.binary and not data.clustered:
        improved = sum(1 for d in data.diffs if d > 0)
        regressed = sum(1 for d in data.diffs if d < 0)
        return _Test("mcnemar-exact", mcnemar_exact(improved, regressed), se, None, 2 * 0.5**n)
    prefix = "cluster-" if data.clustered else ""
    min_p = 2 * 0.5**g
    if g <= EXACT_UNITS:
        sums = [s for s, _ in _unit_sums(data)]
        return _Test(f"{prefix}sign-flip-exact", _sign_flip_p(sums), se, None, min_p)
    name = "cluster-t" if data.clustered else "paired-t"
    if se <= 1e-12 * max(1.0, abs(delta)):
        # Every unit moved by the same amount: as extreme as a sign-flip test can see.
        se = 0.0
        return _Test(name, 1.0 if abs(delta) <= 1e-12 else min_p, se, g - 1, min_p)
    return _Test(name, t_two_sided_p(delta / se, g - 1), se, g - 1, min_p)


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


def _interval(data: PairedData, test: _Test, alpha_level: float) -> Interval:
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
    return _clip(delta - half, delta + half, -1, 1)


def _power_at(data: PairedData, test: _Test, effect: float, alpha_level: float) -> float:
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


def _effect_guess(data: PairedData, test: _Test, alpha_level: float) -> float:
    """A normal-approximation MDE, where the exact search starts."""
    n = len(data.diffs)
    z = normal_quantile(1 - alpha_level / 2) + normal_quantile(POWER)
    if test.name == "mcnemar-exact":
        discordant = sum(1 for d in data.diffs if d != 0)
        return z * math.sqrt(binom_upper(discordant, n, NUISANCE_CONFIDENCE) / n)
    return z * max(test.se, math.sqrt(binom_upper(0, n, NUISANCE_CONFIDENCE) / n))


def _direction(delta: float, p: float, alpha: float) -> str | None:
    if p < alpha and delta > 0:
        return VERDICT_BETTER
    if p < alpha and delta < 0:
        return VERDICT_WORSE
    return None


def verdict_for(delta: float, p_value: float, alpha: float) -> str:
    """better / worse when the difference is significant at alpha, else no measurable difference."""
    return _direction(delta, p_value, alpha) or VERDICT_SAME


def _finish(
    result: PairedResult, p_adjusted: float | None, p_failures_adjusted: float | None, family: int
) -> PairedResult:
    """Interval, power, MDE and verdict at the family's level (after Holm, when p_adjusted is given)."""
    data = result.data
    assert data is not None
    test = _run_test(data)
    alpha = result.alpha
    p = result.p_value if p_adjusted is None else p_adjusted
    # The interval is at the level this suite was tested at: excluding 0 ⇔ p_adjusted < alpha.
    level = alpha if p_adjusted is None or p_adjusted == 0 else alpha * result.p_value / p_adjusted
    ci = _interval(data, test, level)
    family_alpha = alpha / family
    power = _power_at(data, test, result.min_effect, family_alpha)
    mde = smallest_effect(
        lambda effect: _power_at(data, test, effect, family_alpha),
        POWER,
        _effect_guess(data, test, family_alpha),
    )
    direction = _direction(result.delta, p, alpha)
    errors = result.errors
    if errors is not None:
        errors = replace(errors, p_as_failures_adjusted=p_failures_adjusted)
        p_failures = errors.p_as_failures if p_failures_adjusted is None else p_failures_adjusted
        failures_direction = _direction(errors.delta_as_failures, p_failures, alpha)
    if (
        errors is not None
        and (errors.candidate_errors or errors.baseline_errors)
        and (failures_direction != direction)
    ):
        verdict = VERDICT_ERRORS
    elif direction is not None:
        verdict = direction
    elif test.min_p >= family_alpha:
        verdict = VERDICT_FEW_GROUPS if data.clustered else VERDICT_TOO_SMALL
    elif power < POWER:
        verdict = VERDICT_TOO_SMALL
    else:
        verdict = VERDICT_SAME
    return replace(
        result,
        ci=ci,
        ci_level=1 - level,
        power=power,
        mde=mde,
        family_size=family,
        p_adjusted=p_adjusted,
        verdict=verdict,
        errors=errors,
    )


def _error_check(
    with_errors: ErrorInputs | None,
) -> ErrorCheck | None:
    if with_errors is None:
        return None
    candidate, baseline, groups, cand_errored, base_errored = with_errors
    if len(candidate) < 2:
        return None
    data = _pair_data(candidate, baseline, groups, None)
    test = _run_test(data)
    cand_only = sum(1 for c, b in zip(cand_errored, base_errored, strict=True) if c and not b)
    base_only = sum(1 for c, b in zip(cand_errored, base_errored, strict=True) if b and not c)
    return ErrorCheck(
        n=len(candidate),
        candidate_errors=sum(cand_errored),
        baseline_errors=sum(base_errored),
        p_errors=mcnemar_exact(cand_only, base_only),
        delta_as_failures=math.fsum(data.diffs) / len(data.diffs),
        p_as_failures=test.p,
        data=data,
    )


def paired_compare(
    candidate: Sequence[float],
    baseline: Sequence[float],
    groups: Sequence[str | None] | None = None,
    *,
    alpha: float = 0.05,
    min_effect: float = 0.05,
    binary: bool | None = None,
    with_errors: ErrorInputs | None = None,
) -> PairedResult:
    """Compare two models on the same samples (position i of both is the same sample).

    `with_errors` is the same comparison over every sample both attempted, errors scored 0, with
    each side's error flags: when it would change the verdict, the verdict is "inconclusive: errors".
    """
    n = len(candidate)
    if n < 2:
        raise ValueError("paired_compare needs at least 2 paired samples")
    data = _pair_data(candidate, baseline, groups, binary)
    test = _run_test(data)
    result = PairedResult(
        n=n,
        delta=math.fsum(data.diffs) / n,
        se=test.se,
        ci=Interval(-1.0, 1.0),
        p_value=test.p,
        test=test.name,
        verdict=VERDICT_SAME,
        mde=None,
        alpha=alpha,
        candidate_mean=math.fsum(candidate) / n,
        baseline_mean=math.fsum(baseline) / n,
        min_effect=min_effect,
        min_p=test.min_p,
        df=test.df,
        improved=sum(1 for d in data.diffs if d > 0),
        regressed=sum(1 for d in data.diffs if d < 0),
        n_clusters=len(data.units) if data.clustered else None,
        errors=_error_check(with_errors),
        data=data,
    )
    return _finish(result, None, None, 1)


def with_verdicts(results: Sequence[PairedResult], alpha: float) -> list[PairedResult]:
    """Holm-adjust the p-values of one family of suites; recompute each verdict, interval and power."""
    results = [replace(r, alpha=alpha) for r in results]
    adjusted = holm([r.p_value for r in results])
    failures = holm([r.errors.p_as_failures if r.errors is not None else r.p_value for r in results])
    family = len(results)
    return [
        _finish(r, p, f if r.errors is not None else None, family)
        for r, p, f in zip(results, adjusted, failures, strict=True)
    ]


def min_detectable_effect(n: int, sd_diff: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """(z_{1-α/2} + z_power) · sd_diff / √n: the normal-approximation planning formula for a suite size."""
    if n <= 0:
        return math.inf
    return (normal_quantile(1 - alpha / 2) + normal_quantile(power)) * sd_diff / math.sqrt(n)
