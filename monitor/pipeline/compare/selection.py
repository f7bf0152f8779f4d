"""Choose the runs a comparison uses: a model's finished runs, and the pair on one suite version."""

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


def matching_runs(session: Session, candidate: str, baseline: str, suite: str) -> tuple[Run, Run] | str:
    """The newest suite version both models finished, with their latest runs on it; else why not."""
    cand_runs = done_runs(session, candidate, suite)
    if not cand_runs:
        return f"{candidate} has no finished run on suite '{suite}'"
    base_runs = done_runs(session, baseline, suite)
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


def baseline_run(session: Session, baseline: str, run: Run, event_runs: Sequence[Run]) -> Run | None:
    """A done run of `baseline` on the run's suite version: this event's first, then the latest."""
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
