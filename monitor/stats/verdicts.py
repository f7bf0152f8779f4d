"""Verdicts: better, worse, no measurable difference or why not, with Holm across a family of suites."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from monitor.stats.estimate import Interval
from monitor.stats.paired import (
    POWER,
    PairedData,
    effect_guess,
    mcnemar_exact,
    pair_data,
    power_at,
    run_test,
    test_interval,
)
from monitor.stats.power import smallest_effect
from monitor.stats.sequential import SequentialInfo, combined_p, confidence_sequence, e_process

VERDICT_BETTER = "better"
VERDICT_WORSE = "worse"
VERDICT_SAME = "no measurable difference"
VERDICT_TOO_SMALL = "too small to tell"
VERDICT_FEW_GROUPS = "too few groups to tell"
VERDICT_ERRORS = "inconclusive: errors"
UNDECIDED = (VERDICT_TOO_SMALL, VERDICT_FEW_GROUPS, VERDICT_ERRORS)
SEQUENTIAL_TEST = "betting e-process"


# The comparison over every sample both models attempted, errors scored 0: candidate scores,
# baseline scores, groups, and which samples errored on each side.
ErrorInputs = tuple[
    Sequence[float], Sequence[float], Sequence[str | None] | None, Sequence[bool], Sequence[bool]
]


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
    can never reach alpha); `power` is the power against `min_effect`. `sequential` is set for a run that
    could stop early (docs/statistics.md "Early stopping"): `p_value` then combines the anytime-valid
    p with the fixed-n one, and a run that stopped is judged by the sequential test alone.
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
    sequential: SequentialInfo | None = None


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


def direction_of(delta: float, p: float, alpha: float) -> str | None:
    """Better or worse when the difference is significant at alpha, else None."""
    if p < alpha and delta > 0:
        return VERDICT_BETTER
    if p < alpha and delta < 0:
        return VERDICT_WORSE
    return None


def _finish(
    result: PairedResult, p_adjusted: float | None, p_failures_adjusted: float | None, family: int
) -> PairedResult:
    """Interval, power, MDE and verdict at the family's level (after Holm, when p_adjusted is given)."""
    data = result.data
    assert data is not None
    test = run_test(data)
    alpha = result.alpha
    p = result.p_value if p_adjusted is None else p_adjusted
    # The interval is at the level this suite was tested at: excluding 0 ⇔ p_adjusted < alpha.
    level = alpha if p_adjusted is None or p_adjusted == 0 else alpha * result.p_value / p_adjusted
    sequential = result.sequential
    # A monitored suite tests at share·level sequentially and (1 − share)·level at the end (combined_p).
    share = 0.0 if sequential is None else sequential.share
    family_alpha = alpha / family
    fixed_alpha = family_alpha * (1 - share)
    if sequential is not None and _sequential_decides(sequential):
        ci = Interval(*confidence_sequence(data.diffs, share * level))
    else:
        ci = test_interval(data, test, level * (1 - share))
    if sequential is not None and sequential.stopped:
        power, mde = 0.0, None  # a stopped run's verdict is the sequential test's; it has no fixed n
    else:
        power = power_at(data, test, result.min_effect, fixed_alpha)
        mde = smallest_effect(
            lambda effect: power_at(data, test, effect, fixed_alpha),
            POWER,
            effect_guess(data, test, fixed_alpha),
        )
    direction = direction_of(result.delta, p, alpha)
    errors = result.errors
    if errors is not None:
        errors = replace(errors, p_as_failures_adjusted=p_failures_adjusted)
        p_failures = errors.p_as_failures if p_failures_adjusted is None else p_failures_adjusted
        failures_direction = direction_of(errors.delta_as_failures, p_failures, alpha)
    if (
        errors is not None
        and (errors.candidate_errors or errors.baseline_errors)
        and (failures_direction != direction)
    ):
        verdict = VERDICT_ERRORS
    elif direction is not None:
        verdict = direction
    elif test.min_p >= fixed_alpha and (sequential is None or not sequential.stopped):
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


def _sequential_decides(sequential: SequentialInfo) -> bool:
    """Whether the suite's combined p is the sequential test's (so its interval is the sequence's)."""
    if sequential.stopped or sequential.p_fixed is None:
        return True
    return sequential.p_value / sequential.share < sequential.p_fixed / (1 - sequential.share)


def _error_check(
    with_errors: ErrorInputs | None,
    monitored: tuple[int, bool, int] | None = None,
) -> ErrorCheck | None:
    if with_errors is None:
        return None
    candidate, baseline, groups, cand_errored, base_errored = with_errors
    if len(candidate) < 2:
        return None
    data = pair_data(candidate, baseline, groups, None)
    test = run_test(data)
    p_failures = test.p
    if monitored is not None:
        p_failures = combined_p(e_process(data.diffs).p_value, None if monitored[1] else test.p)
    cand_only = sum(1 for c, b in zip(cand_errored, base_errored, strict=True) if c and not b)
    base_only = sum(1 for c, b in zip(cand_errored, base_errored, strict=True) if b and not c)
    return ErrorCheck(
        n=len(candidate),
        candidate_errors=sum(cand_errored),
        baseline_errors=sum(base_errored),
        p_errors=mcnemar_exact(cand_only, base_only),
        delta_as_failures=math.fsum(data.diffs) / len(data.diffs),
        p_as_failures=p_failures,
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
    monitored: tuple[int, bool, int] | None = None,
) -> PairedResult:
    """Compare two models on the same samples (position i of both is the same sample).

    `with_errors` is the same comparison over every sample both attempted, errors scored 0, with
    each side's error flags: when it would change the verdict, the verdict is "inconclusive: errors".
    `monitored` = (samples in the suite, stopped, samples read) for a run that could stop early, its
    samples given in the run's random order: the betting e-process reads them in that order; a stopped
    run is judged by it alone, a complete one by the combination of it and the fixed-n test.
    """
    n = len(candidate)
    if n < 2:
        raise ValueError("paired_compare needs at least 2 paired samples")
    data = pair_data(candidate, baseline, groups, binary)
    test = run_test(data)
    sequential: SequentialInfo | None = None
    p_value, name = test.p, test.name
    if monitored is not None:
        total, stopped, read = monitored
        process = e_process(data.diffs)
        p_fixed = None if stopped else test.p
        sequential = SequentialInfo(n, total, read, process.p_value, process.max_e, stopped, p_fixed=p_fixed)
        p_value = combined_p(process.p_value, p_fixed)
        name = SEQUENTIAL_TEST if stopped else f"{test.name} + {SEQUENTIAL_TEST}"
    result = PairedResult(
        n=n,
        delta=math.fsum(data.diffs) / n,
        se=test.se,
        ci=Interval(-1.0, 1.0),
        p_value=p_value,
        test=name,
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
        errors=_error_check(with_errors, monitored),
        data=data,
        sequential=sequential,
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
