"""The daemon: a leader lease, APScheduler jobs kept in the project database, and a clean shutdown.

Only the holder of the `scheduler` lease runs a scheduler; another daemon on the same database
waits as a standby and takes over once the lease expires. The jobs are module-level functions
(the job store pickles references to them) that read what they need from this module's runtime
state, set up by the leader before the scheduler starts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, cast

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from monitor.core.config import Config, ScheduleConfig
from monitor.core.errors import ConfigError, MonitorError
from monitor.store.db import Database, make_engine
from monitor.store.lease import DEFAULT_TTL_S, LeaderLease
from monitor.store.tables import Result, Run, utcnow

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.base import BaseTrigger
    from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger("monitor.daemon")

JOBS_TABLE = "apscheduler_jobs"
# A job that could not start on time still runs if it is at most this late (then it waits its turn).
MISFIRE_GRACE_S = 600
RETENTION_EVERY_H = 24
DEFAULT_GRACE_S = 30.0
# Jobs that run as soon as a daemon becomes leader, not one interval later.
_RUN_AT_START = ("poll", "work", "outbox", "retention")


@dataclass(frozen=True)
class DaemonOptions:
    """How one daemon process identifies itself and how quickly it reacts (short values in tests)."""

    worker_id: str
    lease_ttl_s: float = DEFAULT_TTL_S
    grace_s: float = DEFAULT_GRACE_S

    @property
    def heartbeat_s(self) -> float:
        return max(0.1, self.lease_ttl_s / 5)

    @property
    def standby_poll_s(self) -> float:
        return min(5.0, max(0.1, self.lease_ttl_s / 5))


@dataclass
class _Runtime:
    """What the jobs of the current leader term share; the jobs find it in `_RUNTIME`."""

    config: Config
    db: Database
    options: DaemonOptions
    scheduler: BackgroundScheduler | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    _active: dict[str, int] = field(default_factory=dict)
    _stoppers: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Condition = field(default_factory=threading.Condition)

    def request_stop(self) -> None:
        """Stop claiming work: running work loops stop after their in-flight samples."""
        with self._lock:
            self.stopping.set()
            stoppers = list(self._stoppers)
        for stop in stoppers:
            stop()

    def on_stop(self, stop: Callable[[], None]) -> Callable[[], None]:
        """Register a callback for `request_stop` (run at once if stopping); returns its remover."""
        with self._lock:
            self._stoppers.append(stop)
            already = self.stopping.is_set()
        if already:
            stop()

        def remove() -> None:
            with self._lock:
                self._stoppers.remove(stop)

        return remove

    @contextmanager
    def active(self, name: str) -> Iterator[None]:
        with self._lock:
            self._active[name] = self._active.get(name, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._active[name] -= 1
                if not self._active[name]:
                    del self._active[name]
                self._lock.notify_all()

    def wait_idle(self, timeout_s: float) -> list[str]:
        """Wait until no job runs (at most `timeout_s`); the names still running."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._active and (left := deadline - time.monotonic()) > 0:
                self._lock.wait(left)
            return sorted(self._active)

    def wake(self, job_id: str) -> None:
        """Run a job now instead of at its next tick (a no-op while stopping)."""
        if self.scheduler is None or self.stopping.is_set():
            return
        try:
            self.scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))
        except Exception as exc:  # the job may be gone or the scheduler shutting down: the tick will do
            log.debug("could not wake job %s: %s", job_id, exc)


_RUNTIME: _Runtime | None = None


def _run_job(name: str, body: Callable[[_Runtime], None]) -> None:
    """Run a job body against the current runtime; log (never raise) its failure."""
    runtime = _RUNTIME
    if runtime is None:
        log.warning("job %s fired outside a running daemon; ignored", name)
        return
    if runtime.stopping.is_set():
        return
    with runtime.active(name):
        started = time.monotonic()
        try:
            body(runtime)
        except Exception:
            log.exception(
                "job %s failed after %.1f s; the daemon carries on", name, time.monotonic() - started
            )


# ---- jobs (module-level: the job store keeps references to them) ------------------------------


def poll_job() -> None:
    """List every provider, record new/removed models, then plan the new models' runs."""
    _run_job("poll", _poll)


def _poll(rt: _Runtime) -> None:
    from monitor.pipeline.poll.discovery import poll
    from monitor.pipeline.queue import plan_new_model_runs

    poll(rt.db, rt.config)  # discovery logs each provider's outcome
    if plan_new_model_runs(rt.db, rt.config).queued_runs:
        rt.wake("work")


def work_job() -> None:
    """Evaluate queued runs one at a time until none is left (or the daemon stops), then report events."""
    _run_job("work", _work)


def _work(rt: _Runtime) -> None:
    done = asyncio.run(_work_until_empty(rt))
    if done:
        log.info("work: %d run(s) finished", done)
    if rt.stopping.is_set():
        return
    from monitor.pipeline.complete import complete_events

    reported = complete_events(rt.db, rt.config)
    if reported:
        log.info("work: reported event(s) %s", ", ".join(map(str, reported)))
        rt.wake("outbox")


async def _work_until_empty(rt: _Runtime) -> int:
    from monitor.pipeline.run.runner import work_once

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def set_stop() -> None:
        loop.call_soon_threadsafe(stop.set)

    remove = rt.on_stop(set_stop)
    finished = 0
    try:
        while not stop.is_set():
            summary = await work_once(rt.db, rt.config, worker_id=rt.options.worker_id, stop=stop)
            if summary is None:
                break
            finished += 1
            score = "n/a" if summary.score is None else f"{summary.score:.3f}"
            log.info(
                "run %d %s on %s: %s, score %s, %d passed, %d failed, %d errored",
                summary.run_id,
                summary.model_key,
                summary.suite,
                summary.status,
                score,
                summary.passed,
                summary.failed,
                summary.errored,
            )
    finally:
        remove()
    return finished


def drift_job() -> None:
    """Queue a rerun of the baselines and watched aliases; `work` compares and alerts when they finish."""
    _run_job("drift", _drift)


def _drift(rt: _Runtime) -> None:
    from monitor.pipeline.complete import start_drift_check

    started = start_drift_check(rt.db, rt.config)
    log.info("drift: checking %d model(s)", len(started))
    if started:
        rt.wake("work")


def outbox_job() -> None:
    """Send pending e-mail; a failure stays pending with a later retry time."""
    _run_job("outbox", _outbox)


def _outbox(rt: _Runtime) -> None:
    if rt.config.email is None:
        return
    from monitor.pipeline.deliver.mailer import flush_outbox

    result = flush_outbox(rt.db, rt.config.email)
    for error in result.errors:
        log.warning("outbox: %s", error)


def retention_job() -> None:
    """Blank the raw outputs older than `retention_days`; scores, grades and totals stay."""
    _run_job("retention", _retention)


def _retention(rt: _Runtime) -> None:
    days = rt.config.schedule.retention_days
    if days is None:
        return
    pruned = prune_outputs(rt.db, older_than=timedelta(days=days))
    if pruned:
        log.info("retention: cleared the output of %d result(s) older than %d days", pruned, days)


def prune_outputs(db: Database, *, older_than: timedelta) -> int:
    """Set `Result.output` to NULL where older than `older_than`; returns how many rows changed."""
    cutoff = utcnow() - older_than
    with db.session() as session:
        result = session.execute(
            update(Result)
            .where(Result.created_at < cutoff, Result.output.is_not(None))
            .values(output=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


JOB_FUNCTIONS: dict[str, Callable[[], None]] = {
    "poll": poll_job,
    "work": work_job,
    "drift": drift_job,
    "outbox": outbox_job,
    "retention": retention_job,
}


# ---- schedule -------------------------------------------------------------------------------


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_weekdays(field: str) -> str:
    """A standard cron day-of-week field (0 or 7 = Sunday, names allowed) as APScheduler day names.

    APScheduler numbers days from Monday = 0, so "1" would mean Tuesday to it; explicit names
    keep the usual crontab meaning ("0 6 * * 1" is Monday 06:00).
    """
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            low, high = 0, 6
        else:
            first, _, last = span.partition("-")
            low = _weekday_number(first)
            high = _weekday_number(last) if last else (6 if step_text else low)
            if last and high < low:
                high += 7
        if step < 1:
            raise ValueError(f"bad step in {field!r}")
        days.update(day % 7 for day in range(low, high + 1, step))
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def _weekday_number(text: str) -> int:
    if text in _WEEKDAYS:
        return _WEEKDAYS.index(text)
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    raise ValueError(f"{text!r} is not a day of the week (0-7 or sun-sat)")


def cron_trigger(expr: str) -> CronTrigger:
    """A 5-field crontab expression (minute hour day month weekday, standard meaning) in UTC."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=_cron_weekdays(weekday), timezone=UTC
    )


def job_triggers(schedule: ScheduleConfig) -> dict[str, BaseTrigger]:
    """The trigger of every job the config asks for (cron expressions are in UTC)."""
    from apscheduler.triggers.interval import IntervalTrigger

    def cron(key: str, expr: str) -> CronTrigger:
        try:
            return cron_trigger(expr)
        except ValueError as exc:
            raise ConfigError(f"[schedule] {key} = {expr!r} is not a cron expression: {exc}") from None

    triggers: dict[str, BaseTrigger] = {}
    if schedule.poll_cron:
        triggers["poll"] = cron("poll_cron", schedule.poll_cron)
    elif schedule.poll_interval_minutes:
        triggers["poll"] = IntervalTrigger(seconds=schedule.poll_interval_minutes * 60, timezone=UTC)
    triggers["work"] = IntervalTrigger(seconds=schedule.work_interval_seconds, timezone=UTC)
    triggers["drift"] = cron("drift_cron", schedule.drift_cron)
    triggers["outbox"] = IntervalTrigger(seconds=schedule.outbox_interval_seconds, timezone=UTC)
    if schedule.retention_days:
        triggers["retention"] = IntervalTrigger(hours=RETENTION_EVERY_H, timezone=UTC)
    return triggers


def build_scheduler(config: Config) -> BackgroundScheduler:
    """A BackgroundScheduler whose jobs live in the project database (table `apscheduler_jobs`)."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.base import STATE_RUNNING

    class Scheduler(BackgroundScheduler):
        """Processes jobs only while running: a wake-up racing `shutdown` must not touch the store."""

        def _process_jobs(self) -> float | None:
            if self.state != STATE_RUNNING:
                return None
            return cast(float | None, super()._process_jobs())

    store = SQLAlchemyJobStore(engine=make_engine(config.database_url), tablename=JOBS_TABLE)
    return Scheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(max_workers=len(JOB_FUNCTIONS))},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S},
        timezone=UTC,
    )


def install_jobs(scheduler: BackgroundScheduler, config: Config, now: datetime | None = None) -> None:
    """Make the stored jobs match the config; an unchanged job keeps its stored next run time.

    A job whose stored run time passed while no daemon was running runs once now (coalesced); a
    new or changed job starts now (drift: at its next cron time); a job the config dropped goes.
    """
    from apscheduler.util import obj_to_ref

    now = now or datetime.now(UTC)
    triggers = job_triggers(config.schedule)
    for job_id, trigger in triggers.items():
        func = JOB_FUNCTIONS[job_id]
        existing = scheduler.get_job(job_id)
        if (
            existing is not None
            and str(existing.trigger) == str(trigger)
            and existing.func_ref == obj_to_ref(func)
        ):
            if existing.next_run_time is not None and existing.next_run_time < now:
                existing.modify(next_run_time=now)
            continue
        first = now if job_id in _RUN_AT_START else trigger.get_next_fire_time(None, now)
        scheduler.add_job(func, trigger, id=job_id, name=job_id, replace_existing=True, next_run_time=first)
    for job in scheduler.get_jobs():
        if job.id not in triggers:
            job.remove()


def release_dead_local_runs(db: Database, worker_id: str) -> int:
    """Mark `interrupted` the running runs whose worker is gone, so they resume at once.

    Gone: a process on this host that no longer exists, or this very worker id from an earlier
    life (a worker id names one live process; a daemon that is just starting holds no run yet).
    Other runs wait for their heartbeat to go stale.
    """
    from monitor.pipeline.queue import holder_is_dead

    released = 0
    with db.session() as session:
        running = session.execute(select(Run.id, Run.claimed_by).where(Run.status == "running")).all()
        for run_id, holder in running:
            if holder and (holder == worker_id or holder_is_dead(holder)):
                result = session.execute(
                    update(Run)
                    .where(Run.id == run_id, Run.status == "running", Run.claimed_by == holder)
                    .values(status="interrupted")
                    .execution_options(synchronize_session=False)
                )
                released += int(getattr(result, "rowcount", 0) or 0)
    return released


# ---- the daemon -----------------------------------------------------------------------------


class Daemon:
    """One daemon process: standby until it holds the lease, then leader until stopped or outvoted."""

    def __init__(self, config: Config, db: Database, options: DaemonOptions) -> None:
        job_triggers(config.schedule)  # bad cron expressions are config errors before anything starts
        self.config = config
        self.db = db
        self.options = options
        self.lease = LeaderLease(db, options.worker_id, ttl_s=options.lease_ttl_s)
        self.shutdown = threading.Event()
        self._signals = 0

    def handle_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals > 1:
            log.warning("second %s: exiting now", signal.Signals(signum).name)
            logging.shutdown()
            os._exit(1)
        log.info("%s received: stopping (grace %.0f s)", signal.Signals(signum).name, self.options.grace_s)
        self.shutdown.set()

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.handle_signal)

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; returns the exit status (0 after a clean stop)."""
        log.info(
            "daemon %s starting (database %s)", self.options.worker_id, _safe_url(self.config.database_url)
        )
        standby_said = False
        stuck: list[str] = []
        while not self.shutdown.is_set():
            if self._try_acquire():
                standby_said = False
                log.info("leader: this daemon runs the schedule")
                lost, stuck = self._lead()
                if stuck:
                    break
                if lost:
                    log.error("lost the leader lease (heartbeat late or database unreachable); standing by")
                continue
            if not standby_said:
                log.info("standby: %s holds the leader lease", self._holder())
                standby_said = True
            self.shutdown.wait(self.options.standby_poll_s)
        try:
            self.lease.release()
        except SQLAlchemyError as exc:
            log.warning("could not release the leader lease (it will expire): %s", exc)
        if stuck:
            # After a signal this is still a clean stop (0); after losing the lease it is a failure
            # (1), so a supervisor restarts the process as a standby.
            code = 0 if self.shutdown.is_set() else 1
            log.warning(
                "job(s) %s still running after the %.0f s grace period; exiting anyway (runs resume on the "
                "next start)",
                ", ".join(stuck),
                self.options.grace_s,
            )
            logging.shutdown()
            os._exit(code)
        log.info("daemon stopped")
        return 0

    def _holder(self) -> str:
        try:
            state = self.lease.state()
        except SQLAlchemyError:
            return "another daemon"
        return state.holder if state else "another daemon"

    def _try_acquire(self) -> bool:
        try:
            return self.lease.try_acquire()
        except SQLAlchemyError as exc:
            log.warning("could not reach the database for the leader lease: %s", exc)
            return False

    def _lead(self) -> tuple[bool, list[str]]:
        """Run the scheduler while renewing the lease; (lease lost?, jobs still running after grace)."""
        global _RUNTIME
        runtime = _Runtime(self.config, self.db, self.options)
        released = release_dead_local_runs(self.db, self.options.worker_id)
        if released:
            log.info("%d run(s) of a dead local worker made resumable", released)
        scheduler = build_scheduler(self.config)
        runtime.scheduler = scheduler
        _RUNTIME = runtime
        scheduler.start(paused=True)
        lost = False
        try:
            install_jobs(scheduler, self.config)
            scheduler.resume()
            last_renewed = time.monotonic()
            while not self.shutdown.wait(self.options.heartbeat_s):
                try:
                    if self.lease.renew():
                        last_renewed = time.monotonic()
                        continue
                    lost = True
                except SQLAlchemyError as exc:
                    log.warning("leader heartbeat failed: %s", exc)
                    lost = time.monotonic() - last_renewed >= self.options.lease_ttl_s
                if lost:
                    break
        finally:
            runtime.request_stop()
            scheduler.pause()
            scheduler.shutdown(wait=False)
            stuck = runtime.wait_idle(self.options.grace_s)
            _RUNTIME = None
        return lost, stuck


def _safe_url(url: str) -> str:
    """The database URL without its password, for logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


def run_daemon(config: Config, options: DaemonOptions) -> int:
    """Open the database (migrating it), install signal handlers and run the daemon until stopped."""
    from monitor.store.db import open_database

    try:
        db = open_database(config.database_url)
    except SQLAlchemyError as exc:
        raise MonitorError(
            f"cannot open the database {_safe_url(config.database_url)}: {exc.__class__.__name__}"
        ) from exc
    try:
        daemon = Daemon(config, db, options)
        daemon.install_signal_handlers()
        return daemon.run()
    finally:
        db.dispose()
