"""Turn stored runs into comparisons: per-run statistics, paired suite comparisons and event verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.stats import PairedResult, ScoreEstimate

# A suite whose minimum detectable effect (80% power) is above 5 points cannot tell models apart.
TOO_SMALL_MDE = 0.05


@dataclass
class RunStats:
    """One run's score with its error bar, outcome counts, latency, tokens and cost."""

    run_id: int
    model_key: str
    suite: str
    suite_version: str
    status: str
    score: ScoreEstimate
    samples: int
    passed: int
    failed: int
    errored: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    cost_per_1k: float | None
    repeat: int
    resolved_model: str | None


@dataclass
class FlippedSample:
    """A sample one model passed and the other failed; `direction` is "pass_to_fail" or "fail_to_pass"."""

    key: str
    direction: str
    prompt: str
    target: Any
    candidate_output: str | None
    baseline_output: str | None


@dataclass
class SuiteComparison:
    """The candidate against the baseline on one suite version (`paired` None without a usable baseline)."""

    suite: str
    suite_version: str
    candidate: RunStats
    baseline: RunStats | None
    paired: PairedResult | None
    flipped: list[FlippedSample]
    too_small: bool
    note: str | None


@dataclass
class EventComparison:
    """A candidate model against its baseline(s) on every suite, with counts and a one-line headline."""

    candidate: str
    baselines: list[str]
    suites: list[SuiteComparison]
    better: int
    worse: int
    same: int
    cost_change_pct: float | None
    headline: str
    alpha: float
