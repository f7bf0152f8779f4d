"""One wording for verdicts and their figures, shared by the terminal, the HTML reports and the e-mail."""

from __future__ import annotations

import math

from monitor.stats.estimate import Interval
from monitor.stats.sequential import p_bound
from monitor.stats.verdicts import (
    VERDICT_BETTER,
    VERDICT_ERRORS,
    VERDICT_FEW_GROUPS,
    VERDICT_SAME,
    VERDICT_TOO_SMALL,
    VERDICT_WORSE,
    PairedResult,
)

# A short CSS-friendly name per verdict (badges and colours).
VERDICT_CLASS = {
    VERDICT_BETTER: "better",
    VERDICT_WORSE: "worse",
    VERDICT_SAME: "same",
    VERDICT_TOO_SMALL: "small",
    VERDICT_FEW_GROUPS: "small",
    VERDICT_ERRORS: "errors",
}


def p_text(p: float | None) -> str:
    """`p = 0.012` or `p < 0.001`: the comparison sign belongs to the text, never doubled."""
    if p is None or not math.isfinite(p):
        return "p unknown"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def points(value: float | None) -> str:
    """A difference of scores in points (1 point = 1 percentage point), signed."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value * 100:+.1f}".replace("-", "−") + " pts"


def points_interval(interval: Interval | None) -> str:
    """`−9.0 to −1.0` (points)."""
    if interval is None:
        return ""
    low = f"{interval.low * 100:+.1f}".replace("-", "−")
    high = f"{interval.high * 100:+.1f}".replace("-", "−")
    return f"{low} to {high}"


def percent(value: float | None) -> str:
    """A share as `71.3%`."""
    return "—" if value is None or not math.isfinite(value) else f"{value * 100:.1f}%"


def difference_line(paired: PairedResult) -> str:
    """`−5.0 pts (95% CI −9.0 to −1.0), p = 0.012 (Holm-adjusted p = 0.036, 3 suites)`."""
    level = f"{paired.ci_level * 100:.1f}".rstrip("0").rstrip(".")
    text = f"{points(paired.delta)} ({level}% CI {points_interval(paired.ci)}), {p_text(paired.p_value)}"
    if paired.p_adjusted is not None and paired.family_size > 1:
        text += f" (Holm-adjusted {p_text(paired.p_adjusted)}, {paired.family_size} suites)"
    return text


def paired_scores_line(paired: PairedResult) -> str:
    """The two mean scores on the paired samples, which subtract to the difference."""
    groups = f" in {paired.n_clusters} groups" if paired.n_clusters else ""
    return (
        f"on the {paired.n} samples both answered{groups}: candidate {percent(paired.candidate_mean)}, "
        f"baseline {percent(paired.baseline_mean)}; {paired.improved} improved, {paired.regressed} regressed"
    )


def stop_line(paired: PairedResult) -> str | None:
    """`stopped after 180 of 500 samples: worse with p < 0.01` for a run the sequential test stopped."""
    sequential = paired.sequential
    if sequential is None or not sequential.stopped:
        return None
    return (
        f"stopped after {sequential.read} of {sequential.total} samples: {paired.verdict} with "
        f"{p_bound(sequential.p_value)} (anytime-valid)"
    )


def power_line(paired: PairedResult) -> str:
    """What the suite can detect: the MDE at 80% power, and the power against the configured effect."""
    effect = f"{paired.min_effect * 100:.0f} pts"
    sequential = paired.sequential
    if sequential is not None and sequential.stopped:
        return (
            f"{paired.test} over the first {sequential.read} samples in the run's random order "
            f"(max E = {sequential.max_e:.3g}); the interval is its confidence sequence"
        )
    if paired.mde is None:
        return (
            f"{paired.test}; this design can never reach alpha {paired.alpha:g}: no difference is detectable"
        )
    return (
        f"{paired.test}; smallest difference detectable at 80% power: {paired.mde * 100:.1f} pts; "
        f"power against {effect}: {paired.power * 100:.0f}%"
    )


def errors_line(paired: PairedResult) -> str | None:
    """Errors on either side, their paired comparison, and the verdict with errors counted as failures."""
    errors = paired.errors
    if errors is None or not (errors.candidate_errors or errors.baseline_errors):
        return None
    p_failures = (
        errors.p_as_failures if errors.p_as_failures_adjusted is None else errors.p_as_failures_adjusted
    )
    return (
        f"errors: candidate {errors.candidate_errors}, baseline {errors.baseline_errors} of {errors.n} "
        f"(paired {p_text(errors.p_errors)}); counting errors as failures: "
        f"{points(errors.delta_as_failures)}, {p_text(p_failures)}"
    )


def verdict_lines(paired: PairedResult) -> list[str]:
    """Every line that explains a suite's verdict, in reading order."""
    stopped = stop_line(paired)
    lines = [difference_line(paired), paired_scores_line(paired), power_line(paired)]
    if stopped is not None:
        lines.insert(1, stopped)
    errors = errors_line(paired)
    if errors is not None:
        lines.append(errors)
    return lines
