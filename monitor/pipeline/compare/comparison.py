"""Turn stored runs into comparisons: per-run statistics, paired suite comparisons and event verdicts."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from monitor.core.errors import InputError, MonitorError
from monitor.stats.estimate import ScoreEstimate, mean_over_repeats, percentile, run_score
from monitor.stats.verdicts import (
    UNDECIDED,
    VERDICT_BETTER,
    VERDICT_ERRORS,
    VERDICT_FEW_GROUPS,
    VERDICT_SAME,
    VERDICT_TOO_SMALL,
    VERDICT_WORSE,
    PairedResult,
    paired_compare,
    with_verdicts,
)
from monitor.store.tables import Event, Result, Run, Sample, Suite

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config


@dataclass
class RunStats:
    """One run's score with its error bar, outcome counts, latency, tokens and cost."""

    run_id: int
    model_key: str
    suite: str
    suite_version: str
    status: str
    score: ScoreEstimate
    pass_rate: ScoreEstimate
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


@dataclass
class EventComparison:
    """A candidate model against its baseline(s) on every suite, with counts and a one-line headline."""

    candidate: str
    baselines: list[str]
    suites: list[SuiteComparison]
    better: int
    worse: int
    same: int
    undecided: int
    cost_change_pct: float | None
    headline: str
    alpha: float
    notes: list[str] = field(default_factory=list)


def parse_model_key(model_key: str) -> tuple[str, str]:
    """Split `provider:model`; anything else is bad input (exit 2)."""
    provider, sep, model = model_key.partition(":")
    if not sep or not provider or not model:
        raise InputError(f"'{model_key}' must be 'provider:model', for example openai:gpt-5")
    return provider, model


def _is_errored(result: Result) -> bool:
    return result.error_kind is not None or result.score is None


def _result_cost_unknown(result: Result) -> bool:
    """Unknown when no cost is recorded yet tokens were used (an error before any reply costs 0)."""
    if result.cost_usd is not None:
        return False
    if not _is_errored(result):
        return True
    return bool(result.input_tokens or result.output_tokens)


def _results(session: Session, run_id: int) -> list[Result]:
    return list(session.scalars(select(Result).where(Result.run_id == run_id).order_by(Result.id)))


def _samples(session: Session, suite_id: int) -> dict[str, Sample]:
    rows = session.scalars(select(Sample).where(Sample.suite_id == suite_id).order_by(Sample.position))
    return {sample.key: sample for sample in rows}


def _per_sample_scores(results: Sequence[Result]) -> dict[str, float]:
    return mean_over_repeats(
        (r.sample_key, float(r.score)) for r in results if r.score is not None and not _is_errored(r)
    )


def _scores_with_errors_as_failures(results: Sequence[Result]) -> tuple[dict[str, float], set[str]]:
    """Per-sample mean over repeats with errored repeats scored 0, and the samples that errored at all."""
    scores = mean_over_repeats(
        (r.sample_key, 0.0 if _is_errored(r) or r.score is None else float(r.score)) for r in results
    )
    return scores, {r.sample_key for r in results if _is_errored(r)}


def _stats_from(run: Run, results: Sequence[Result], samples: dict[str, Sample]) -> RunStats:
    scored = [r for r in results if not _is_errored(r)]
    groups = {key: sample.group for key, sample in samples.items()}
    estimate = run_score(((r.sample_key, r.score, _is_errored(r)) for r in results), groups)
    passes = ((r.sample_key, 1.0 if r.passed else 0.0, _is_errored(r)) for r in results)
    pass_rate = run_score(passes, groups)
    cost: float | None = run.cost_usd
    if any(_result_cost_unknown(r) for r in results):
        cost = None
    cost_per_1k = cost / len(scored) * 1000 if cost is not None and scored else None
    resolved = run.resolved_model or next((r.resolved_model for r in scored if r.resolved_model), None)
    return RunStats(
        run_id=run.id,
        model_key=run.model_key,
        suite=run.suite.name,
        suite_version=run.suite.version,
        status=run.status,
        score=estimate,
        pass_rate=pass_rate,
        samples=len(results),
        passed=sum(1 for r in scored if r.passed),
        failed=sum(1 for r in scored if not r.passed),
        errored=len(results) - len(scored),
        latency_p50_ms=percentile([r.latency_ms for r in scored if r.latency_ms is not None], 50),
        latency_p95_ms=percentile([r.latency_ms for r in scored if r.latency_ms is not None], 95),
        input_tokens=sum(r.input_tokens or 0 for r in results),
        output_tokens=sum(r.output_tokens or 0 for r in results),
        cost_usd=cost,
        cost_per_1k=cost_per_1k,
        repeat=run.repeat,
        resolved_model=resolved,
    )


def _get_run(session: Session, run_id: int) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise MonitorError(f"run {run_id} does not exist")
    return run


def run_stats(session: Session, run_id: int) -> RunStats:
    """Statistics of one run: errored results are counted apart and never lower the score.

    `samples`, `passed`, `failed` and `errored` count results (each repeat is one); the score is the
    mean over samples of each sample's mean over repeats; cost per 1,000 is per non-errored result.
    """
    run = _get_run(session, run_id)
    return _stats_from(run, _results(session, run_id), _samples(session, run.suite_id))


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
        if not _is_errored(r):
            votes.setdefault(r.sample_key, []).append(bool(r.passed))
    return {key: sum(v) * 2 > len(v) for key, v in votes.items()}


def _first_output(results: Sequence[Result]) -> dict[str, str | None]:
    outputs: dict[str, str | None] = {}
    for r in sorted(results, key=lambda r: r.repeat):
        if not _is_errored(r):
            outputs.setdefault(r.sample_key, r.output)
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
    session: Session, candidate_run_id: int, baseline_run_id: int, *, alpha: float, min_effect: float = 0.05
) -> SuiteComparison:
    """Pair two runs of one suite version on their samples.

    The test uses the samples both answered; the same comparison with errors counted as failures
    (over every sample both attempted) decides whether errors could be hiding the verdict.
    """
    cand_run, base_run = _get_run(session, candidate_run_id), _get_run(session, baseline_run_id)
    samples = _samples(session, cand_run.suite_id)
    cand_results, base_results = _results(session, cand_run.id), _results(session, base_run.id)
    cand_stats = _stats_from(cand_run, cand_results, samples)
    base_samples = samples if base_run.suite_id == cand_run.suite_id else _samples(session, base_run.suite_id)
    base_stats = _stats_from(base_run, base_results, base_samples)
    if cand_run.suite_id != base_run.suite_id:
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

    def ordered(keys: set[str]) -> list[str]:
        return sorted(keys, key=lambda k: (position.get(k, len(position)), k))

    keys = ordered(set(cand_scores) & set(base_scores))
    notes = []
    excluded = len(set(cand_scores) | set(base_scores)) - len(keys)
    if cand_stats.errored or base_stats.errored:
        notes.append(
            f"errored samples: candidate {cand_stats.errored}, baseline {base_stats.errored}; "
            f"{len(keys)} samples paired"
        )
    elif excluded:
        notes.append(f"{excluded} samples answered by only one model are left out; {len(keys)} paired")
    paired: PairedResult | None = None
    if len(keys) >= 2:
        paired = paired_compare(
            [cand_scores[k] for k in keys],
            [base_scores[k] for k in keys],
            _groups(samples, keys),
            alpha=alpha,
            min_effect=min_effect,
            with_errors=_with_errors(samples, cand_results, base_results, ordered),
        )
    else:
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


def _done_runs(
    session: Session, model_key: str, suite_name: str, suite_version: str | None = None
) -> list[Run]:
    provider, model_id = parse_model_key(model_key)
    query = (
        select(Run)
        .join(Suite, Run.suite_id == Suite.id)
        .where(
            Run.provider == provider, Run.model_id == model_id, Run.status == "done", Suite.name == suite_name
        )
        .order_by(Run.finished_at.desc().nulls_last(), Run.id.desc())
    )
    if suite_version is not None:
        query = query.where(Suite.version == suite_version)
    return list(session.scalars(query))


def latest_done_run(
    session: Session, model_key: str, suite_name: str, suite_version: str | None = None
) -> Run | None:
    """The model's most recently finished run of the suite (of that version, when given)."""
    runs = _done_runs(session, model_key, suite_name, suite_version)
    return runs[0] if runs else None


def _suites_with_done_runs(session: Session, model_key: str) -> list[str]:
    provider, model_id = parse_model_key(model_key)
    query = (
        select(Suite.name)
        .join(Run, Run.suite_id == Suite.id)
        .where(Run.provider == provider, Run.model_id == model_id, Run.status == "done")
        .distinct()
    )
    return sorted(session.scalars(query))


def _apply_holm(comparisons: list[SuiteComparison], alpha: float) -> None:
    """Holm across the suites of one comparison; each verdict follows its adjusted p-value."""
    compared = [c for c in comparisons if c.paired is not None]
    adjusted = with_verdicts([c.paired for c in compared if c.paired is not None], alpha)
    for comparison, paired in zip(compared, adjusted, strict=True):
        comparison.paired = paired
        comparison.too_small = paired.verdict in UNDECIDED


def compare_models(
    session: Session, config: Config, candidate: str, baseline: str, suites: Sequence[str] | None = None
) -> EventComparison:
    """The candidate's and the baseline's latest done runs on the same suite version, suite by suite.

    Without `suites`, every suite both models have finished on one version. A named suite with no
    such pair of runs is an error that says what exists.
    """
    parse_model_key(candidate)
    parse_model_key(baseline)
    alpha = config.stats.alpha
    names = list(dict.fromkeys(suites)) if suites else _suites_with_done_runs(session, candidate)
    if not names:
        raise MonitorError(f"{candidate} has no finished runs; run 'model-monitor eval {candidate}' first")
    comparisons: list[SuiteComparison] = []
    missing: list[str] = []
    for name in names:
        pair = _matching_runs(session, candidate, baseline, name)
        if isinstance(pair, str):
            missing.append(pair)
            continue
        comparisons.append(
            compare_runs(session, pair[0].id, pair[1].id, alpha=alpha, min_effect=config.stats.min_effect)
        )
    if (suites and missing) or not comparisons:
        raise MonitorError("; ".join(missing) or f"{candidate} and {baseline} share no finished suite")
    _apply_holm(comparisons, alpha)
    result = _summarise(candidate, [baseline], comparisons, alpha, against="the baseline")
    result.notes = missing
    return result


def _matching_runs(session: Session, candidate: str, baseline: str, suite: str) -> tuple[Run, Run] | str:
    """The newest suite version both models finished, with their latest runs on it; else why not."""
    cand_runs = _done_runs(session, candidate, suite)
    if not cand_runs:
        return f"{candidate} has no finished run on suite '{suite}'"
    base_runs = _done_runs(session, baseline, suite)
    if not base_runs:
        return f"{baseline} has no finished run on suite '{suite}'"
    for cand_run in cand_runs:
        match = next((b for b in base_runs if b.suite_id == cand_run.suite_id), None)
        if match is not None:
            return cand_run, match
    return (
        f"{candidate} and {baseline} have no finished run on the same version of suite '{suite}' "
        f"({candidate}: {cand_runs[0].suite.version}, {baseline}: {base_runs[0].suite.version})"
    )


def compare_event(session: Session, config: Config, event_id: int) -> EventComparison:
    """The event's model against the configured baseline on each suite it ran (same suite version).

    Per suite, the first baseline in `config.baseline.for_suite(suite)` with a finished run on the
    same version is used, preferring a run made for this event. A drift event, or a candidate that
    is itself the baseline, is compared with its own previous finished run on that version.
    """
    event = session.get(Event, event_id)
    if event is None:
        raise MonitorError(f"event {event_id} does not exist")
    candidate = event.model_key
    alpha = config.stats.alpha
    event_runs = list(session.scalars(select(Run).where(Run.event_id == event_id).order_by(Run.id.desc())))
    own = [r for r in event_runs if r.model_key == candidate]
    latest: dict[int, Run] = {}
    for run in sorted(own, key=lambda r: (r.status == "done", r.id)):
        latest[run.suite_id] = run
    comparisons: list[SuiteComparison] = []
    used: list[str] = []
    self_compare = event.kind == "drift"
    for run in sorted(latest.values(), key=lambda r: (r.suite.name, r.id)):
        comparisons.append(_event_suite(session, config, run, event_runs, alpha, used, self_compare))
    _apply_holm(comparisons, alpha)
    against = "its previous run" if self_compare or used == [candidate] else "the baseline"
    return _summarise(candidate, used, comparisons, alpha, against=against)


def _event_suite(
    session: Session,
    config: Config,
    run: Run,
    event_runs: Sequence[Run],
    alpha: float,
    used: list[str],
    self_compare: bool,
) -> SuiteComparison:
    candidate = run.model_key
    if run.status != "done":
        stats = run_stats(session, run.id)
        reason = f"run {run.status}" + (f": {run.error}" if run.error else "")
        return SuiteComparison(run.suite.name, run.suite.version, stats, None, None, [], True, reason)
    baselines = [] if self_compare else config.baseline.for_suite(run.suite.name)
    candidates_for_baseline = [b for b in baselines if b != candidate] or [candidate]
    for baseline in candidates_for_baseline:
        base_run = _baseline_run(session, baseline, run, event_runs)
        if base_run is not None:
            if baseline not in used:
                used.append(baseline)
            return compare_runs(session, run.id, base_run.id, alpha=alpha, min_effect=config.stats.min_effect)
    stats = run_stats(session, run.id)
    if not baselines and not self_compare:
        note = "no baseline configured for this suite"
    elif candidates_for_baseline == [candidate]:
        note = f"no earlier finished run of {candidate} on this suite version"
    else:
        note = f"no finished baseline run on suite version {run.suite.version} ({', '.join(baselines)})"
    return SuiteComparison(run.suite.name, run.suite.version, stats, None, None, [], True, note)


def _baseline_run(session: Session, baseline: str, run: Run, event_runs: Sequence[Run]) -> Run | None:
    """A done run of `baseline` on the run's suite version: this event's first, then the latest."""
    for other in event_runs:
        if (
            other.id != run.id
            and other.model_key == baseline
            and other.suite_id == run.suite_id
            and other.status == "done"
            and baseline != run.model_key
        ):
            return other
    for other in _done_runs(session, baseline, run.suite.name, run.suite.version):
        if other.id != run.id and (baseline != run.model_key or other.id < run.id):
            return other
    return None


def _cost_change_pct(comparisons: Sequence[SuiteComparison]) -> float | None:
    """Change of cost per 1,000 samples, summed over the compared suites; None when any cost is unknown."""
    pairs = [c for c in comparisons if c.baseline is not None and c.paired is not None]
    if not pairs:
        return None
    cand = [c.candidate.cost_per_1k for c in pairs]
    base = [c.baseline.cost_per_1k for c in pairs if c.baseline is not None]
    if any(v is None for v in cand) or any(v is None for v in base):
        return None
    cand_total = sum(v for v in cand if v is not None)
    base_total = sum(v for v in base if v is not None)
    if base_total == 0:
        return 0.0 if cand_total == 0 else None
    return (cand_total / base_total - 1) * 100


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _headline(
    candidate: str,
    comparisons: Sequence[SuiteComparison],
    better: int,
    worse: int,
    cost_change: float | None,
    against: str,
) -> str:
    compared = [c for c in comparisons if c.paired is not None]
    if not comparisons:
        return f"{candidate}: no suite was evaluated"
    if not compared:
        reasons = sorted({c.note for c in comparisons if c.note})
        why = f" ({'; '.join(reasons)})" if reasons else ""
        return f"{candidate}: nothing to compare against{why}"
    total = len(compared)
    of_total = f"of {_plural(total, 'suite')}"
    if better and worse:
        text = f"{candidate} is better than {against} on {better} and worse on {worse} {of_total}"
    elif better:
        text = f"{candidate} is better than {against} on {better} {of_total}"
    elif worse:
        text = f"{candidate} is worse than {against} on {worse} {of_total}"
    elif any(c.paired is not None and c.paired.verdict == VERDICT_SAME for c in compared):
        text = f"{candidate} shows no measurable difference from {against} on {_plural(total, 'suite')}"
    else:
        text = f"{candidate}: no verdict against {against} on {_plural(total, 'suite')}"
    undecided = [
        (verdict, sum(1 for c in compared if c.paired is not None and c.paired.verdict == verdict))
        for verdict in (VERDICT_TOO_SMALL, VERDICT_FEW_GROUPS, VERDICT_ERRORS)
    ]
    parts = [f"{count} {verdict}" for verdict, count in undecided if count]
    if parts:
        text += f" ({', '.join(parts)})"
    if cost_change is None:
        text += ", cost unknown"
    elif round(cost_change) == 0:
        text += ", same cost"
    elif cost_change < 0:
        text += f", {abs(cost_change):.0f}% cheaper"
    else:
        text += f", {cost_change:.0f}% more expensive"
    uncompared = len(comparisons) - total
    if uncompared:
        text += f"; {_plural(uncompared, 'suite')} not compared"
    return text


def _summarise(
    candidate: str, baselines: list[str], comparisons: list[SuiteComparison], alpha: float, *, against: str
) -> EventComparison:
    verdicts = [c.paired.verdict for c in comparisons if c.paired is not None]
    better, worse = verdicts.count(VERDICT_BETTER), verdicts.count(VERDICT_WORSE)
    cost_change = _cost_change_pct(comparisons)
    return EventComparison(
        candidate=candidate,
        baselines=baselines,
        suites=comparisons,
        better=better,
        worse=worse,
        same=verdicts.count(VERDICT_SAME),
        undecided=sum(1 for v in verdicts if v in UNDECIDED),
        cost_change_pct=cost_change,
        headline=_headline(candidate, comparisons, better, worse, cost_change, against),
        alpha=alpha,
    )


def to_jsonable(value: Any) -> Any:
    """Dataclasses as plain dicts for JSON; infinities and NaN become None."""
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_jsonable(getattr(value, f.name)) for f in fields(value) if f.metadata.get("json", True)
        }
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
