"""The run queue: plan new-model events into runs (with baselines), claim one atomically, heartbeat."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from monitor.core.config import Config
from monitor.core.errors import MonitorError
from monitor.providers.registry import cannot_call
from monitor.store.db import Database
from monitor.store.holders import Holder, hold, holder_state
from monitor.store.statuses import COMPLETED, UNFINISHED
from monitor.store.tables import Event, Run, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import InstrumentedAttribute
    from sqlalchemy.sql.elements import ColumnElement

    from monitor.evals.loader import SuiteSpec

DEFAULT_STALE_AFTER_S = 120.0
# A claim on SQLite is a compare-and-set; a lost race is retried this many times.
_CLAIM_ATTEMPTS = 5

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    """host:pid:random: unique per process; host and pid are for display, the random part keeps it unique."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(8)}"


def holder_is_dead(db: Database, worker_id: str | None) -> bool:
    """True only when this machine proves the claim's holder dead (its lock file here is free).

    A holder on another host, or in a container that shares our host name but not our runtime
    directory, is never dead here: its runs wait for their heartbeat to go stale.
    """
    if not worker_id:
        return True
    return holder_state(db.engine.url, worker_id) is Holder.DEAD


def _default_suites(config: Config, variant: str | None) -> list[SuiteSpec]:
    from monitor.evals.loader import load_suites

    return list(
        load_suites(
            config.suites_dir,
            config.suites.default or None,
            default_judge=config.judge.model,
            variant=variant,
        )
    )


@dataclass
class PlanReport:
    """What planning did: new-model events turned into runs, and why not when it could not."""

    events: list[int] = field(default_factory=list)
    queued_runs: int = 0
    error: str | None = None
    note: str | None = None


def plan_new_model_runs(db: Database, config: Config) -> PlanReport:
    """Queue the runs of every new-model event the poll recorded and nobody planned yet.

    The poll only records models and events; this step turns them into runs: one per suite, and per
    prompt variant with `[schedule] variants = "all"` (the default). Each event is
    claimed with a conditional update in the same transaction that queues its runs, so a crash
    between poll and plan loses nothing (the event waits) and nothing is queued twice. Without a
    suites directory the config only watches model lists: events are planned with no runs (their
    report says nothing was evaluated). A suite that fails to load leaves the events waiting.
    """
    from monitor.evals.loader import load_suites

    report = PlanReport()
    with db.session() as session:
        waiting = list(
            session.scalars(
                select(Event).where(Event.kind == "new_model", Event.planned_at.is_(None)).order_by(Event.id)
            )
        )
        if not waiting:
            return report
        suites: list[SuiteSpec] = []
        if config.suites_dir.is_dir():
            try:
                suites = list(
                    load_suites(
                        config.suites_dir,
                        config.suites.default or None,
                        default_judge=config.judge.model,
                        variant=config.schedule.variants,
                    )
                )
            except MonitorError as exc:
                report.error = f"new models wait for their runs: {exc}"
                log.error("%s", report.error)
                return report
        else:
            report.note = (
                f"no suites directory at {config.suites_dir}: models are recorded, nothing is evaluated"
            )
        now = utcnow()
        for event in waiting:
            claimed = session.execute(
                update(Event)
                .where(Event.id == event.id, Event.planned_at.is_(None))
                .values(planned_at=now)
                .execution_options(synchronize_session=False)
            )
            if not getattr(claimed, "rowcount", 0):
                continue
            runs = enqueue_runs(
                session,
                config,
                provider=event.provider,
                model_id=event.model_id,
                trigger="new_model",
                event_id=event.id,
                suites=suites,
            )
            report.events.append(event.id)
            report.queued_runs += len(runs)
    return report


def enqueue_runs(
    session: Session,
    config: Config,
    *,
    provider: str,
    model_id: str,
    trigger: str,
    event_id: int | None = None,
    suites: list[SuiteSpec] | None = None,
    repeat: int = 1,
    params: dict[str, Any] | None = None,
    claimed_by: str | None = None,
) -> list[Run]:
    """One queued run per suite (registered first; by default a new model's suites include their prompt
    variants, per `[schedule] variants`); for a new model also each baseline's run on the same
    suite version unless it already has a finished, queued, running or interrupted one, or cannot be
    called (no key, unknown provider). With `claimed_by` the model's
    runs are created already running for that worker (a manual `eval` executes them itself)."""
    from monitor.evals.register import register_suite

    if claimed_by:
        hold(session.get_bind().engine.url, claimed_by)
    variant = config.schedule.variants if trigger == "new_model" else None
    specs = suites if suites is not None else _default_suites(config, variant)
    now = utcnow()
    created: list[Run] = []
    for spec in specs:
        suite = register_suite(session, spec)
        run = Run(
            provider=provider,
            model_id=model_id,
            suite_id=suite.id,
            event_id=event_id,
            trigger=trigger,
            status="running" if claimed_by else "queued",
            claimed_by=claimed_by,
            heartbeat_at=now if claimed_by else None,
            repeat=repeat,
            params=dict(params or {}),
            samples_total=suite.sample_count * repeat,
        )
        session.add(run)
        created.append(run)
        if trigger != "new_model":
            continue
        for baseline in config.baseline.for_suite(spec.base_name):
            base_provider, _, base_model = baseline.partition(":")
            if (base_provider, base_model) == (provider, model_id):
                continue
            if cannot_call(config, baseline) is not None:
                continue  # a config problem `status` and the event report name; queueing it would only fail
            existing = session.scalar(
                select(Run.id)
                .where(
                    Run.provider == base_provider,
                    Run.model_id == base_model,
                    Run.suite_id == suite.id,
                    Run.status.in_((*COMPLETED, *UNFINISHED)),
                )
                .limit(1)
            )
            if existing is not None:
                continue
            base_run = Run(
                provider=base_provider,
                model_id=base_model,
                suite_id=suite.id,
                event_id=event_id,
                trigger="baseline",
                status="queued",
                repeat=repeat,
                params=dict(params or {}),
                samples_total=suite.sample_count * repeat,
            )
            session.add(base_run)
            created.append(base_run)
    session.flush()
    return created


def _claimable(stale_after_s: float) -> ColumnElement[bool]:
    stale_before = utcnow() - timedelta(seconds=stale_after_s)
    return or_(
        Run.status == "queued",
        and_(Run.status == "interrupted", Run.trigger != "manual"),
        and_(Run.status == "running", or_(Run.heartbeat_at.is_(None), Run.heartbeat_at < stale_before)),
    )


def _claim_order() -> tuple[ColumnElement[Any] | InstrumentedAttribute[Any], ...]:
    """Oldest first, except that an event's baseline runs go before its other runs: a new model's run then
    starts after its event's baseline run, so early stopping can test against that run (one slot at a
    time; with more slots the two overlap, docs/running.md "Early stopping")."""
    sibling = aliased(Run)
    event_start = (
        select(func.min(sibling.created_at)).where(sibling.event_id == Run.event_id).scalar_subquery()
    )
    baseline = and_(Run.trigger == "baseline", Run.event_id.is_not(None))
    return (
        case((baseline, func.coalesce(event_start, Run.created_at)), else_=Run.created_at),
        case((baseline, 0), else_=1),
        Run.created_at,
        Run.id,
    )


def claim_next_run(
    db: Database, worker_id: str, *, stale_after_s: float = DEFAULT_STALE_AFTER_S
) -> int | None:
    """Claim the oldest claimable run for `worker_id` and return its id (None when there is none); an
    event's baseline runs count as old as the event's first run and go before its other runs.

    Claimable: queued; interrupted scheduled runs (a stopped daemon's); running runs whose heartbeat is
    older than `stale_after_s` (a dead worker's). PostgreSQL locks the row with FOR UPDATE SKIP LOCKED;
    SQLite, which has one writer at a time, uses a compare-and-set UPDATE checked by its row count.
    This process holds `worker_id`'s lock file first, so other processes here can tell it alive.
    """
    hold(db.engine.url, worker_id)
    if db.engine.dialect.name == "postgresql":
        with db.session() as session:
            run_id = session.scalar(
                select(Run.id)
                .where(_claimable(stale_after_s))
                .order_by(*_claim_order())
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if run_id is not None:
                session.execute(
                    update(Run)
                    .where(Run.id == run_id)
                    .values(status="running", claimed_by=worker_id, heartbeat_at=utcnow())
                )
            return run_id
    for _ in range(_CLAIM_ATTEMPTS):
        with db.session() as session:
            run_id = session.scalar(
                select(Run.id).where(_claimable(stale_after_s)).order_by(*_claim_order()).limit(1)
            )
            if run_id is None:
                return None
            if _compare_and_claim(session, run_id, worker_id, _claimable(stale_after_s)):
                return run_id
    return None


def claim_run(
    db: Database, run_id: int, worker_id: str, *, stale_after_s: float = DEFAULT_STALE_AFTER_S
) -> bool:
    """Claim one given run to resume it: queued, interrupted, failed, skipped or done with errors, or
    running under a stale holder or one this machine proves dead."""
    hold(db.engine.url, worker_id)
    with db.session() as session:
        holder = session.scalar(select(Run.claimed_by).where(Run.id == run_id))
        resumable_statuses = ("queued", "interrupted", "failed", "skipped", "done_with_errors")
        options = [Run.status.in_(resumable_statuses), _claimable(stale_after_s)]
        if holder_is_dead(db, holder):
            options.append(and_(Run.status == "running", Run.claimed_by == holder))
        resumable = or_(*options)
        return _compare_and_claim(session, run_id, worker_id, resumable)


def _compare_and_claim(session: Session, run_id: int, worker_id: str, condition: ColumnElement[bool]) -> bool:
    result = session.execute(
        update(Run)
        .where(Run.id == run_id, condition)
        .values(status="running", claimed_by=worker_id, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def heartbeat(db: Database, run_id: int, worker_id: str) -> bool:
    """Refresh the claim; False when another worker has taken the run over (stop working on it)."""
    with db.session() as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.claimed_by == worker_id, Run.status == "running")
            .values(heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)
