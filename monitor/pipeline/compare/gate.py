"""The CI gate: pair fresh runs with the baseline's, and decide which suites fail `--fail-on`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.pipeline.compare.pairing import SuiteComparison, compare_runs
from monitor.pipeline.compare.runs import get_run, run_stats
from monitor.pipeline.compare.selection import given_baseline
from monitor.pipeline.compare.summary import EventComparison, apply_holm, summarise
from monitor.pipeline.compare.variants import compare_variants
from monitor.pipeline.compare.wording import difference_line
from monitor.providers.spending import reprice
from monitor.stats.verdicts import VERDICT_BETTER, VERDICT_WORSE
from monitor.store.statuses import COMPLETED

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config

FAIL_ON = ("worse", "any-change")
"""`worse` fails on a worse verdict; `any-change` on better or worse (an inconclusive verdict passes)."""

PASSED, FAILED, ERRORED, SKIPPED = "passed", "failed", "errored", "skipped"


@dataclass(frozen=True)
class SuiteGate:
    """One suite's outcome at the gate: passed, failed (by its verdict), errored (a run did not finish)
    or skipped (finished but not compared, so no verdict), with the reason in one line."""

    candidate: str
    baseline: str | None
    suite: str
    suite_version: str
    verdict: str | None
    outcome: str
    reason: str


@dataclass(frozen=True)
class GateDecision:
    """The gate over every compared model and suite: `failed` by a verdict, `errored` by a run."""

    fail_on: str
    failed: bool
    errored: bool
    suites: list[SuiteGate]

    def as_dict(self) -> dict[str, Any]:
        """The decision for `--json` (`"gate"`)."""
        return {
            "fail_on": self.fail_on,
            "failed": self.failed,
            "errored": self.errored,
            "suites": [vars(s) for s in self.suites],
        }


def compare_pairs(
    session: Session,
    config: Config,
    baseline: str,
    pairs_by_candidate: Mapping[str, Sequence[tuple[int, int | None]]],
) -> list[EventComparison]:
    """Each candidate's runs against the baseline's, pair by pair (candidate run id, baseline run id or
    None), with Holm across each candidate's pairs; a pair where either run did not finish has no
    verdict, and says why. A candidate run that stopped early is paired with the baseline's run its
    sequential test read. Upper-bound costs of models priced since are repriced once, first.
    """
    reprice(session, config)
    alpha, min_effect = config.stats.alpha, config.stats.min_effect
    results = []
    for candidate, pairs in pairs_by_candidate.items():
        comparisons = [
            _pair(
                session,
                cand_id,
                given_baseline(session, baseline, get_run(session, cand_id), base_id),
                alpha,
                min_effect,
            )
            for cand_id, base_id in pairs
        ]
        apply_holm(comparisons, alpha)
        result = summarise(candidate, [baseline], comparisons, alpha, against="the baseline")
        result.variants = compare_variants(session, comparisons, alpha=alpha, min_effect=min_effect)
        results.append(result)
    return results


def _pair(
    session: Session, cand_id: int, base_id: int | None, alpha: float, min_effect: float
) -> SuiteComparison:
    # The statuses decide first: a finished pair's statistics are computed once, by compare_runs.
    runs = [get_run(session, cand_id), *([get_run(session, base_id)] if base_id is not None else [])]
    unfinished = [run for run in runs if run.status not in COMPLETED]
    if not unfinished and base_id is not None:
        return compare_runs(session, cand_id, base_id, alpha=alpha, min_effect=min_effect)
    reasons = [
        f"run #{run.id} of {run.model_key} {run.status}" + (f": {run.error}" if run.error else "")
        for run in unfinished
    ]
    note = "; ".join(reasons) or "no baseline run on this suite version"
    cand = run_stats(session, cand_id)
    base = run_stats(session, base_id) if base_id is not None else None
    return SuiteComparison(cand.suite, cand.suite_version, cand, base, None, [], True, note)


def suite_gate(fail_on: str, baseline: str | None, comparison: SuiteComparison) -> SuiteGate:
    """Whether one suite's comparison passes the gate, and why."""
    cand, base, paired = comparison.candidate, comparison.baseline, comparison.paired
    unfinished = cand.status not in COMPLETED or (base is not None and base.status not in COMPLETED)
    if paired is None:
        outcome = ERRORED if unfinished else SKIPPED
        reason = comparison.note or "not compared"
        return SuiteGate(
            cand.model_key, baseline, comparison.suite, comparison.suite_version, None, outcome, reason
        )
    failing = (VERDICT_WORSE,) if fail_on == "worse" else (VERDICT_WORSE, VERDICT_BETTER)
    outcome = FAILED if paired.verdict in failing else PASSED
    reason = f"{paired.verdict}: {difference_line(paired)}"
    return SuiteGate(
        cand.model_key, baseline, comparison.suite, comparison.suite_version, paired.verdict, outcome, reason
    )


def decide(fail_on: str, results: Sequence[EventComparison]) -> GateDecision:
    """The gate over every comparison's suites (each against its first baseline)."""
    suites = [
        suite_gate(fail_on, result.baselines[0] if result.baselines else None, comparison)
        for result in results
        for comparison in result.suites
    ]
    return GateDecision(
        fail_on=fail_on,
        failed=any(s.outcome == FAILED for s in suites),
        errored=any(s.outcome == ERRORED for s in suites),
        suites=suites,
    )
