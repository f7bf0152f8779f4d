"""Choose the runs a comparison uses: a model's finished runs, and the pair on one suite version.

Every caller that pairs a candidate run with a baseline run (events, `compare`, the CI gate, retirement
migrations) goes through `stopped_against` first: a run the sequential test stopped early is paired
with the baseline run that test read, so the verdict and p-value stated are the ones that stopped it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from monitor.core.errors import InputError
from monitor.store.statuses import COMPLETED
from monitor.store.tables import Run, Suite

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def parse_model_key(model_key: str) -> tuple[str, str]:
    """Split `provider:model`; anything else is bad input (exit 2)."""
    provider, sep, model = model_key.partition(":")
    if not sep or not provider or not model:
        raise InputError(f"'{model_key}' must be 'provider:model', for example openai:gpt-5")
    return provider, model


def done_runs(
    session: Session, model_key: str, suite_name: str, suite_version: str | None = None
) -> list[Run]:
    """The model's finished runs of the suite (of that version, when given), newest first."""
    provider, model_id = parse_model_key(model_key)
    query = (
        select(Run)
        .join(Suite, Run.suite_id == Suite.id)
        .where(
            Run.provider == provider,
            Run.model_id == model_id,
            Run.status.in_(COMPLETED),
            Suite.name == suite_name,
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
    runs = done_runs(session, model_key, suite_name, suite_version)
    return runs[0] if runs else None


def suites_with_done_runs(session: Session, model_key: str) -> list[str]:
    """The names of the suites the model has finished a run on, sorted."""
    provider, model_id = parse_model_key(model_key)
    query = (
        select(Suite.name)
        .join(Run, Run.suite_id == Suite.id)
        .where(Run.provider == provider, Run.model_id == model_id, Run.status.in_(COMPLETED))
        .distinct()
    )
    return sorted(session.scalars(query))


def _read_by_stop(session: Session, run: Run) -> Run | None:
    """The finished run on the same suite version that a stopped run's sequential test read."""
    plan = run.sequential or {}
    if run.stopped_after is None or plan.get("baseline_run_id") is None:
        return None
    other = session.get(Run, int(plan["baseline_run_id"]))
    if other is None or other.id == run.id or other.suite_id != run.suite_id or other.status not in COMPLETED:
        return None
    return other


def stopped_against(session: Session, baseline: str, run: Run) -> Run | None:
    """The baseline run a stopped run's sequential test read (`runs.sequential.baseline_run_id`), when it
    is a finished run of `baseline` on the run's suite version; None for any other run."""
    other = _read_by_stop(session, run)
    return other if other is not None and other.model_key == baseline else None


def stop_baseline_first(session: Session, run: Run, baselines: Sequence[str]) -> list[str]:
    """`baselines` in order, with the model a stopped run's test read moved first (when among them)."""
    other = _read_by_stop(session, run)
    first = [b for b in baselines if other is not None and b == other.model_key]
    return first + [b for b in baselines if b not in first]


def given_baseline(session: Session, baseline: str, run: Run, given: int | None) -> int | None:
    """The baseline run id to pair with a run the caller already chose one for (the CI gate): the one a
    stopped run's test read, else `given`."""
    stopped = stopped_against(session, baseline, run)
    return stopped.id if stopped is not None else given


def matching_runs(session: Session, candidate: str, baseline: str, suite: str) -> tuple[Run, Run] | str:
    """The newest suite version both models finished, with their latest runs on it (the baseline's that a
    stopped candidate run's test read); else why not."""
    cand_runs = done_runs(session, candidate, suite)
    if not cand_runs:
        return f"{candidate} has no finished run on suite '{suite}'"
    base_runs = done_runs(session, baseline, suite)
    if not base_runs:
        return f"{baseline} has no finished run on suite '{suite}'"
    for cand_run in cand_runs:
        match = stopped_against(session, baseline, cand_run) or next(
            (b for b in base_runs if b.suite_id == cand_run.suite_id), None
        )
        if match is not None:
            return cand_run, match
    return (
        f"{candidate} and {baseline} have no finished run on the same version of suite '{suite}' "
        f"({candidate}: {cand_runs[0].suite.version}, {baseline}: {base_runs[0].suite.version})"
    )


def baseline_run(session: Session, baseline: str, run: Run, event_runs: Sequence[Run]) -> Run | None:
    """A done run of `baseline` on the run's suite version: the one a stopped run's test read, else this
    event's, else the latest."""
    stopped = stopped_against(session, baseline, run)
    if stopped is not None:
        return stopped
    for other in event_runs:
        if (
            other.id != run.id
            and other.model_key == baseline
            and other.suite_id == run.suite_id
            and other.status in COMPLETED
            and baseline != run.model_key
        ):
            return other
    for other in done_runs(session, baseline, run.suite.name, run.suite.version):
        if other.id != run.id and (baseline != run.model_key or other.id < run.id):
            return other
    return None
