"""Run entry points: prepare a claimed run, execute it and store its totals; claim-and-run for workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from monitor.core.config import Config
from monitor.core.errors import MonitorError
from monitor.core.logs import configured_secrets
from monitor.pipeline.queue import claim_next_run
from monitor.pipeline.run import batch as batch_mode
from monitor.pipeline.run.batch_caller import BatchAnswers
from monitor.pipeline.run.endpoints import load_apis, store_apis
from monitor.pipeline.run.engine import RunExecution
from monitor.pipeline.run.guard import guard_run
from monitor.pipeline.run.judges import make_judges
from monitor.pipeline.run.progress import RunProgress
from monitor.pipeline.run.rebuild import resolve_suite_spec
from monitor.pipeline.run.stopping import StopMonitor, monitor_for, plan_stop, record_stop
from monitor.pipeline.run.totals import RunSummary, finish_run, summarize_run
from monitor.providers.base import Provider
from monitor.providers.http import redact
from monitor.providers.limits import limiter_for
from monitor.store.db import Database
from monitor.store.statuses import ANSWER_ERROR_KINDS
from monitor.store.tables import Result, Run, Suite, utcnow

if TYPE_CHECKING:
    from monitor.evals.loader import SuiteSpec

log = logging.getLogger(__name__)


def _prepare(
    db: Database, run_id: int, worker_id: str, retry_errors: bool
) -> tuple[Run, Suite, set[tuple[str, int]], RunProgress]:
    """Mark the run running under this worker; return it, its suite, what is stored and its counters."""
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise MonitorError(f"run {run_id} does not exist")
        suite = run.suite
        if retry_errors:
            session.execute(
                delete(Result).where(
                    Result.run_id == run_id,
                    Result.error_kind.is_not(None),
                    Result.error_kind.not_in(ANSWER_ERROR_KINDS),
                )
            )
        rows = session.execute(
            select(
                Result.sample_key,
                Result.repeat,
                Result.score,
                Result.passed,
                Result.error_kind,
                Result.cost_usd,
            ).where(Result.run_id == run_id)
        ).all()
        run.status = "running"
        run.claimed_by = worker_id
        run.heartbeat_at = utcnow()
        run.started_at = run.started_at or utcnow()
        run.finished_at = None
        run.error = None
        session.flush()
        session.expunge(run)
        session.expunge(suite)
    progress = RunProgress(run.id, run.model_key, suite.name, suite.sample_count * max(1, run.repeat))
    stored = set()
    for key, repeat, score, passed, error_kind, cost in rows:
        stored.add((key, repeat))
        progress.add(score, passed, error_kind is not None, cost)
    return run, suite, stored, progress


async def execute_run(
    db: Database,
    config: Config,
    run_id: int,
    *,
    worker_id: str,
    provider: Provider | None = None,
    progress: Callable[[RunProgress], None] | None = None,
    stop: asyncio.Event | None = None,
    concurrency: int | None = None,
    max_cost_usd: float | None = None,
    spec: SuiteSpec | None = None,
    retry_errors: bool = True,
    early_stop: bool | None = None,
    family: int | None = None,
    baseline_run_id: int | None = None,
    batch: BatchAnswers | None = None,
) -> RunSummary:
    """Execute (or resume) a claimed run and store its totals; returns its summary.

    Samples already stored are skipped (stored errors are retried when `retry_errors`). `stop` ends the
    run early: in-flight calls get a short grace, everything finished is written, status interrupted.
    With `early_stop` (default: `[schedule] early_stop` for a new-model run) and a stored baseline, the
    samples go in a random order and the run stops, done, once the sequential test settles the verdict
    at alpha / `family` (default: the event's suites); a run that stopped so is not run again. The
    baseline is run `baseline_run_id` when given (`eval --baseline`), else the configured `[baseline]`.
    With `batch` (its ended batches' answers, see run/batch.py) those answers are graded and stored
    first-hand at the batch price, and only the other samples are sent.
    """
    if await asyncio.to_thread(_stopped_early, db, run_id):
        return await asyncio.to_thread(finish_run, db, run_id, "done", None)
    run, suite, stored, seeded = await asyncio.to_thread(_prepare, db, run_id, worker_id, retry_errors)
    if run.provider not in config.providers:
        return finish_run(db, run_id, "failed", f"provider '{run.provider}' is not in [providers]")
    try:
        spec = (
            spec
            if spec is not None and spec.version == suite.version
            else resolve_suite_spec(db, config, suite)
        )
    except MonitorError as exc:
        return finish_run(db, run_id, "failed", str(exc))
    own_provider = provider is None
    if provider is None:
        from monitor.providers.registry import get_provider

        try:
            provider = get_provider(run.provider, config.providers[run.provider])
        except MonitorError as exc:  # no key, no SDK: a config problem, not a crash of the worker
            log.error("run %d cannot start: %s", run_id, exc)
            return await asyncio.to_thread(finish_run, db, run_id, "failed", str(exc))
    await asyncio.to_thread(load_apis, db, run.provider, provider)
    try:
        judge, judges, judge_providers = make_judges(db, config, spec)
    except MonitorError as exc:
        return finish_run(db, run_id, "failed", str(exc))
    pcfg = config.providers[run.provider]
    slots = concurrency or pcfg.max_concurrency
    seeded.total = len(spec.samples) * max(1, run.repeat)
    wanted = (
        early_stop if early_stop is not None else config.schedule.early_stop and run.trigger == "new_model"
    )
    stopper = await asyncio.to_thread(_stopper, db, config, run, spec, wanted, family, baseline_run_id)
    execution = RunExecution(
        db,
        config,
        run,
        spec,
        provider,
        limiter_for(pcfg),
        worker_id=worker_id,
        concurrency=slots,
        progress=seeded,
        on_progress=progress,
        max_cost_usd=max_cost_usd,
        judge=judge,
        judges=judges,
        stopper=stopper,
        batch=batch,
    )
    if progress is not None:
        progress(seeded)
    try:
        status = await execution.execute(stored, stop)
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt)) else "failed"
        finish_run(
            db,
            run_id,
            status,
            None
            if status == "interrupted"
            else redact(f"{type(exc).__name__}: {exc}", configured_secrets(config)),
        )
        raise
    finally:
        await asyncio.to_thread(store_apis, db, run.provider, provider)
        if own_provider:
            await provider.aclose()
        for judge_provider in judge_providers:
            await judge_provider.aclose()
    if status == "lost":
        return await asyncio.to_thread(summarize_run, db, run_id)
    if status == "stopped" and stopper is not None:
        await asyncio.to_thread(record_stop, db, run_id, stopper)
        return await asyncio.to_thread(finish_run, db, run_id, "done", None)
    error = execution.fatal if status == "failed" else execution.paused
    return await asyncio.to_thread(finish_run, db, run_id, status, error)


def _stopped_early(db: Database, run_id: int) -> bool:
    """Whether the run already stopped early: its verdict is settled, so there is nothing to resume."""
    with db.session() as session:
        return session.scalar(select(Run.stopped_after).where(Run.id == run_id)) is not None


def _stopper(
    db: Database,
    config: Config,
    run: Run,
    spec: SuiteSpec,
    wanted: bool,
    family: int | None,
    baseline_run_id: int | None,
) -> StopMonitor | None:
    """The run's live sequential test, fed with what is stored: a monitored run (one resumed included)
    keeps its plan; a new one is planned when asked for and a baseline run to stop against exists."""
    if not run.sequential and not wanted:
        return None
    keys = [sample.key for sample in spec.samples]
    plan = plan_stop(
        db, config, run, keys=keys, base_name=spec.base_name, family=family, baseline_run_id=baseline_run_id
    )
    if plan is None:
        why = (
            "no stored baseline on this suite version"
            if baseline_run_id is None
            else f"baseline run {baseline_run_id} is not complete with the same repeat (or stopped early)"
        )
        log.info("run %d: %s, so no early stopping", run.id, why)
        return None
    log.info("run %d: early stopping against baseline run %s", run.id, plan["baseline_run_id"])
    return monitor_for(db, plan, run, keys)


async def work_once(
    db: Database, config: Config, *, worker_id: str, stop: asyncio.Event | None = None
) -> RunSummary | None:
    """Claim one run and execute it; over budget it is recorded as skipped with its estimate.

    Returns None when nothing is queued. This is the daemon's worker entry point.
    """
    run_id = await asyncio.to_thread(claim_next_run, db, worker_id)
    if run_id is None:
        return None
    try:
        plan = await asyncio.to_thread(batch_mode.plan_for, db, config, run_id)
        # A run resuming its batches was guarded when they were submitted (and is paid for).
        resume = plan.step == batch_mode.RESUME
        check = None if resume else await asyncio.to_thread(guard_run, db, config, run_id, spec=plan.spec)
    except MonitorError as exc:
        return finish_run(db, run_id, "failed", str(exc))
    if check is not None and not check.ok:
        with db.session() as session:
            session.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(
                    status="skipped",
                    error=f"cost guard: {check.explain()}",
                    claimed_by=None,
                    finished_at=utcnow(),
                )
            )
        return summarize_run(db, run_id)
    if plan.step == batch_mode.SYNC:
        cap = config.budget.max_cost_usd_per_run  # held against the real cost as it runs, not the estimate
        return await execute_run(
            db, config, run_id, worker_id=worker_id, stop=stop, max_cost_usd=cap, spec=plan.spec
        )
    return await _batch_step(db, config, run_id, worker_id=worker_id, stop=stop, spec=plan.spec)


async def _batch_step(
    db: Database,
    config: Config,
    run_id: int,
    *,
    worker_id: str,
    stop: asyncio.Event | None,
    spec: SuiteSpec | None,
) -> RunSummary:
    """Submit or resume a batch run: it waits on its batches, or its ended batches' answers are stored
    and the rest sent sync. Early stopping saves nothing once every sample is bought, and the per-run
    cap was checked at the full price when the batches were submitted: neither cuts the collection short."""
    try:
        step = await batch_mode.advance(db, config, run_id, worker_id=worker_id, spec=spec)
    except MonitorError as exc:
        return await asyncio.to_thread(finish_run, db, run_id, "failed", str(exc))
    if step.waiting:
        return await asyncio.to_thread(summarize_run, db, run_id)
    summary = await execute_run(
        db,
        config,
        run_id,
        worker_id=worker_id,
        stop=stop,
        spec=step.spec,
        early_stop=False,
        batch=step.answers,
    )
    await asyncio.to_thread(batch_mode.mark_collected, db, run_id, summary.status)
    return summary


async def work_slots(
    db: Database,
    config: Config,
    *,
    worker_id: str,
    stop: asyncio.Event,
    slots: int,
    finished: Callable[[RunSummary], Awaitable[None]],
) -> int:
    """Evaluate queued runs `slots` at a time until none is queued or `stop` is set; returns how many.

    Each slot claims the next run when its own ends, so an event's candidate and baseline runs (on
    different providers, too) overlap instead of paying every run's tail in turn; the runs share
    each provider account's limiter, so together they stay within its limits.
    """
    count = 0

    async def slot() -> None:
        nonlocal count
        while not stop.is_set():
            summary = await work_once(db, config, worker_id=worker_id, stop=stop)
            if summary is None:
                return
            count += 1
            await finished(summary)

    async with asyncio.TaskGroup() as group:
        for _ in range(slots):
            group.create_task(slot())
    return count
