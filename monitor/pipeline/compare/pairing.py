"""Pair two runs of one suite version: the paired test, the errors-as-failures check, flipped samples."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.evals.spec import shown_answer
from monitor.evals.variants import split_name
from monitor.pipeline.compare.runs import (
    RunStats,
    get_run,
    is_errored,
    run_results,
    stats_from,
    suite_samples,
)
from monitor.pipeline.compare.stopped import monitoring
from monitor.stats.estimate import mean_over_repeats
from monitor.stats.verdicts import UNDECIDED, PairedResult, paired_compare

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.store.tables import Result, Sample


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
    """The candidate against the baseline on one suite version (`paired` None without a usable baseline).

    `too_small`: no verdict either way could be reached (too small, too few groups, or not compared).
    """

    suite: str
    suite_version: str
    candidate: RunStats
    baseline: RunStats | None
    paired: PairedResult | None
    flipped: list[FlippedSample]
    too_small: bool
    note: str | None


def _per_sample_scores(results: Sequence[Result]) -> dict[str, float]:
    return mean_over_repeats(
        (r.sample_key, float(r.score)) for r in results if r.score is not None and not is_errored(r)
    )


def _scores_with_errors_as_failures(results: Sequence[Result]) -> tuple[dict[str, float], set[str]]:
    """Per-sample mean over repeats with errored repeats scored 0, and the samples that errored at all."""
    scores = mean_over_repeats(
        (r.sample_key, 0.0 if is_errored(r) or r.score is None else float(r.score)) for r in results
    )
    return scores, {r.sample_key for r in results if is_errored(r)}


def _last_user_message(sample: Sample | None) -> str:
    if sample is None:
        return ""
    for message in reversed(sample.messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content
        )
    return "" if content is None else str(content)


def _sample_passed(results: Sequence[Result]) -> dict[str, bool]:
    """Whether each sample passed: a majority of its non-errored repeats passed."""
    votes: dict[str, list[bool]] = {}
    for r in results:
        if not is_errored(r):
            votes.setdefault(r.sample_key, []).append(bool(r.passed))
    return {key: sum(v) * 2 > len(v) for key, v in votes.items()}


def _first_output(results: Sequence[Result]) -> dict[str, str | None]:
    outputs: dict[str, str | None] = {}
    for r in sorted(results, key=lambda r: r.repeat):
        if not is_errored(r):
            outputs.setdefault(r.sample_key, shown_answer(r.output, r.tool_calls))
    return outputs


def _flips(
    keys: Sequence[str],
    samples: dict[str, Sample],
    candidate: Sequence[Result],
    baseline: Sequence[Result],
) -> list[FlippedSample]:
    cand_pass, base_pass = _sample_passed(candidate), _sample_passed(baseline)
    cand_out, base_out = _first_output(candidate), _first_output(baseline)
    flips: list[FlippedSample] = []
    for key in keys:
        if cand_pass[key] == base_pass[key]:
            continue
        sample = samples.get(key)
        flips.append(
            FlippedSample(
                key=key,
                direction="fail_to_pass" if cand_pass[key] else "pass_to_fail",
                prompt=_last_user_message(sample),
                target=sample.target if sample is not None else None,
                candidate_output=cand_out.get(key),
                baseline_output=base_out.get(key),
            )
        )
    flips.sort(key=lambda f: f.direction != "pass_to_fail")
    return flips


def compare_runs(
    session: Session,
    candidate_run_id: int,
    baseline_run_id: int,
    *,
    alpha: float,
    min_effect: float = 0.05,
    across_variants: bool = False,
) -> SuiteComparison:
    """Pair two runs of one suite version on their samples.

    The test uses the samples both answered; the same comparison with errors counted as failures
    (over every sample both attempted) decides whether errors could be hiding the verdict. With
    `across_variants`, two runs on two prompt variants of one suite (`support` and `support[cot]`,
    docs/suites.md "Variants") are paired on their common sample keys; any other pair of versions is
    not comparable.
    """
    cand_run, base_run = get_run(session, candidate_run_id), get_run(session, baseline_run_id)
    samples = suite_samples(session, cand_run.suite_id)
    cand_results, base_results = run_results(session, cand_run.id), run_results(session, base_run.id)
    cand_stats = stats_from(cand_run, cand_results, samples)
    base_samples = (
        samples if base_run.suite_id == cand_run.suite_id else suite_samples(session, base_run.suite_id)
    )
    base_stats = stats_from(base_run, base_results, base_samples)
    variants_of_one_suite = split_name(cand_stats.suite)[0] == split_name(base_stats.suite)[0]
    if cand_run.suite_id != base_run.suite_id and not (across_variants and variants_of_one_suite):
        return SuiteComparison(
            suite=cand_stats.suite,
            suite_version=cand_stats.suite_version,
            candidate=cand_stats,
            baseline=base_stats,
            paired=None,
            flipped=[],
            too_small=True,
            note=(
                f"not comparable: {base_stats.suite} {base_stats.suite_version} differs from "
                f"{cand_stats.suite} {cand_stats.suite_version}"
            ),
        )
    cand_scores, base_scores = _per_sample_scores(cand_results), _per_sample_scores(base_results)
    position = {key: s.position for key, s in samples.items()}
    plan = monitoring(cand_run, base_run, samples.keys(), base_samples.keys())
    notes = [plan] if isinstance(plan, str) else []
    order = plan[0] if isinstance(plan, tuple) else None

    def ordered(keys: set[str]) -> list[str]:
        """Suite order; for a monitored pair, the run's random order (a stopped run's part of it)."""
        if order is not None:
            return [k for k in order if k in keys]
        return sorted(keys, key=lambda k: (position.get(k, len(position)), k))

    keys = ordered(set(cand_scores) & set(base_scores))
    seen = set(order) if order is not None else None
    excluded = len({k for k in set(cand_scores) | set(base_scores) if seen is None or k in seen}) - len(keys)
    if cand_stats.errored or base_stats.errored:
        notes.append(
            f"errored samples: candidate {cand_stats.errored}, baseline {base_stats.errored}; "
            f"{len(keys)} samples paired"
        )
    elif excluded:
        notes.append(f"{excluded} samples answered by only one model are left out; {len(keys)} paired")
    paired: PairedResult | None = None
    if len(keys) >= 2 and not isinstance(plan, str):
        paired = paired_compare(
            [cand_scores[k] for k in keys],
            [base_scores[k] for k in keys],
            _groups(samples, keys),
            alpha=alpha,
            min_effect=min_effect,
            with_errors=_with_errors(samples, cand_results, base_results, ordered),
            monitored=plan[1] if isinstance(plan, tuple) else None,
        )
    elif not isinstance(plan, str):
        notes.append(f"only {len(keys)} paired samples: nothing to compare")
    return SuiteComparison(
        suite=cand_stats.suite,
        suite_version=cand_stats.suite_version,
        candidate=cand_stats,
        baseline=base_stats,
        paired=paired,
        flipped=_flips(keys, samples, cand_results, base_results),
        too_small=paired is None or paired.verdict in UNDECIDED,
        note="; ".join(notes) or None,
    )


def _groups(samples: dict[str, Sample], keys: Sequence[str]) -> list[str | None]:
    return [samples[k].group if k in samples else None for k in keys]


def _with_errors(
    samples: dict[str, Sample],
    cand_results: Sequence[Result],
    base_results: Sequence[Result],
    ordered: Callable[[set[str]], list[str]],
) -> tuple[list[float], list[float], list[str | None], list[bool], list[bool]] | None:
    """Every sample both runs attempted, errors scored 0, with each side's error flags (None: no errors)."""
    cand, cand_errored = _scores_with_errors_as_failures(cand_results)
    base, base_errored = _scores_with_errors_as_failures(base_results)
    if not cand_errored and not base_errored:
        return None
    keys = ordered(set(cand) & set(base))
    return (
        [cand[k] for k in keys],
        [base[k] for k in keys],
        _groups(samples, keys),
        [k in cand_errored for k in keys],
        [k in base_errored for k in keys],
    )
