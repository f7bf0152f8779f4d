"""The comparisons the monitor reports: two named models, or an event's model against its baselines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from monitor.core.errors import MonitorError
from monitor.evals.variants import split_name
from monitor.pipeline.compare.pairing import SuiteComparison, compare_runs
from monitor.pipeline.compare.runs import RunStats, run_stats
from monitor.pipeline.compare.selection import (
    baseline_run,
    matching_runs,
    parse_model_key,
    stop_baseline_first,
    suites_with_done_runs,
)
from monitor.pipeline.compare.summary import EventComparison, apply_holm, summarise
from monitor.pipeline.compare.variants import compare_variants
from monitor.providers.registry import cannot_call
from monitor.providers.spending import reprice
from monitor.store.statuses import COMPLETED
from monitor.store.tables import Event, Run

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config


def compare_models(
    session: Session, config: Config, candidate: str, baseline: str, suites: Sequence[str] | None = None
) -> EventComparison:
    """The candidate's and the baseline's latest done runs on the same suite version, suite by suite (upper-
    bound costs of models priced since are repriced first).

    Without `suites`, every suite both models have finished on one version. A named suite with no
    such pair of runs is an error that says what exists.
    """
    parse_model_key(candidate)
    parse_model_key(baseline)
    reprice(session, config)
    alpha = config.stats.alpha
    names = list(dict.fromkeys(suites)) if suites else suites_with_done_runs(session, candidate)
    if not names:
        raise MonitorError(f"{candidate} has no finished runs; run 'model-monitor eval {candidate}' first")
    comparisons: list[SuiteComparison] = []
    missing: list[str] = []
    for name in names:
        pair = matching_runs(session, candidate, baseline, name)
        if isinstance(pair, str):
            missing.append(pair)
            continue
        comparisons.append(
            compare_runs(session, pair[0].id, pair[1].id, alpha=alpha, min_effect=config.stats.min_effect)
        )
    if (suites and missing) or not comparisons:
        raise MonitorError("; ".join(missing) or f"{candidate} and {baseline} share no finished suite")
    apply_holm(comparisons, alpha)
    result = summarise(candidate, [baseline], comparisons, alpha, against="the baseline")
    result.notes = missing
    result.variants = compare_variants(session, comparisons, alpha=alpha, min_effect=config.stats.min_effect)
    return result


def compare_event(session: Session, config: Config, event_id: int) -> EventComparison:
    """The event's model against the configured baseline on each suite it ran (same suite version).

    Upper-bound costs of models priced since are repriced first. Per suite, the first baseline in
    `config.baseline.for_suite(suite)` with a finished run on the same version is used, preferring a
    run made for this event; a run that stopped early is compared with the baseline run its sequential
    test read (that baseline first). A drift event, or a candidate that
    is itself the baseline, is compared with its own previous finished run on that version.
    """
    event = session.get(Event, event_id)
    if event is None:
        raise MonitorError(f"event {event_id} does not exist")
    candidate = event.model_key
    reprice(session, config)
    alpha = config.stats.alpha
    event_runs = list(session.scalars(select(Run).where(Run.event_id == event_id).order_by(Run.id.desc())))
    own = [r for r in event_runs if r.model_key == candidate]
    latest: dict[int, Run] = {}
    for run in sorted(own, key=lambda r: (r.status in COMPLETED, r.id)):
        latest[run.suite_id] = run
    comparisons: list[SuiteComparison] = []
    used: list[str] = []
    self_compare = event.kind == "drift"
    for run in sorted(latest.values(), key=lambda r: (r.suite.name, r.id)):
        comparisons.append(_event_suite(session, config, run, event_runs, alpha, used, self_compare))
    apply_holm(comparisons, alpha)
    against = "its previous run" if self_compare or used == [candidate] else "the baseline"
    result = summarise(candidate, used, comparisons, alpha, against=against)
    if against == "the baseline":
        production = _production_beside(session, config, latest.values(), comparisons, event_runs)
        result.variants = compare_variants(
            session, comparisons, alpha=alpha, min_effect=config.stats.min_effect, production=production
        )
    return result


def _production_beside(
    session: Session,
    config: Config,
    runs: Iterable[Run],
    comparisons: Sequence[SuiteComparison],
    event_runs: Sequence[Run],
) -> list[RunStats]:
    """The baseline's finished runs on the suite versions where the candidate's run did not finish (so
    has no baseline beside it): production's score on every variant, for the "Prompt variants" table."""
    paired = {c.candidate.run_id for c in comparisons if c.baseline is not None}
    found: list[RunStats] = []
    for run in runs:
        if run.id in paired:
            continue
        for baseline in config.baseline.for_suite(split_name(run.suite.name)[0]):
            base_run = baseline_run(session, baseline, run, event_runs) if baseline != run.model_key else None
            if base_run is not None:
                found.append(run_stats(session, base_run.id))
                break
    return found


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
    if run.status not in COMPLETED:
        stats = run_stats(session, run.id)
        reason = f"run {run.status}" + (f": {run.error}" if run.error else "")
        if run.status == "skipped":
            reason += f"; `model-monitor resume {run.id} --yes` runs it anyway"
        return SuiteComparison(run.suite.name, run.suite.version, stats, None, None, [], True, reason)
    baselines = [] if self_compare else config.baseline.for_suite(split_name(run.suite.name)[0])
    others = stop_baseline_first(session, run, [b for b in baselines if b != candidate])
    candidates_for_baseline = others or [candidate]
    for baseline in candidates_for_baseline:
        base_run = baseline_run(session, baseline, run, event_runs)
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
        problems = [p for b in candidates_for_baseline if (p := cannot_call(config, b)) is not None]
        if problems:
            note += "; the baseline cannot be called: " + "; ".join(problems)
    return SuiteComparison(run.suite.name, run.suite.version, stats, None, None, [], True, note)
