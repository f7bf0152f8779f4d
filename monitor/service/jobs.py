"""The daemon's jobs (poll, work, drift, outbox, retention) and the runtime of the leader term they share.

The jobs are module-level functions because the job store keeps references to them (module path
and name): they must stay importable here. They read what they need from the runtime that the
leader installs with `serving` before its scheduler starts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from monitor.core.config import Config
from monitor.service.retention import prune_outputs
from monitor.store.db import Database
from monitor.store.lease import Fence, LeaseLost

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger("monitor.daemon")


@dataclass
class Runtime:
    """What the jobs of the current leader term share; `serving` makes it the one they read."""

    config: Config
    db: Database
    worker_id: str
    fence: Fence | None = None  # this leader term's write guard; None outside a leader term
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


_RUNTIME: Runtime | None = None


@contextmanager
def serving(runtime: Runtime) -> Iterator[Runtime]:
    """Make `runtime` the one the jobs run against until the block ends (one leader term)."""
    global _RUNTIME
    _RUNTIME = runtime
    try:
        yield runtime
    finally:
        _RUNTIME = None


def _run_job(name: str, body: Callable[[Runtime], None]) -> None:
    """Run a job body unless its leader term has ended (fence); log, never raise, its failure."""
    runtime = _RUNTIME
    if runtime is None:
        log.warning("job %s fired outside a running daemon; ignored", name)
        return
    if runtime.stopping.is_set():
        return
    with runtime.active(name):
        started = time.monotonic()
        try:
            if runtime.fence is not None:
                with runtime.db.session() as session:
                    runtime.fence.check(session)
            body(runtime)
        except LeaseLost as exc:
            log.warning("job %s: this daemon no longer leads, so it writes nothing more (%s)", name, exc)
        except Exception:
            log.exception(
                "job %s failed after %.1f s; the daemon carries on", name, time.monotonic() - started
            )


def poll_job() -> None:
    """List every provider, record new/removed models, then plan the new models' runs."""
    _run_job("poll", _poll)


def _poll(rt: Runtime) -> None:
    from monitor.pipeline.poll.discovery import poll
    from monitor.pipeline.queue import plan_new_model_runs
    from monitor.service.retirements import check_retirements

    poll(rt.db, rt.config)  # discovery logs each provider's outcome
    queued = plan_new_model_runs(rt.db, rt.config).queued_runs
    queued += check_retirements(rt.db, rt.config, fence=rt.fence).queued_runs
    if queued:
        rt.wake("work")


def work_job() -> None:
    """Evaluate queued runs one at a time until none is left (or the daemon stops), reporting events."""
    _run_job("work", _work)


def _work(rt: Runtime) -> None:
    _poll_batches(rt)
    done = asyncio.run(_work_until_empty(rt))
    if done:
        log.info("work: %d run(s) finished", done)
    if rt.stopping.is_set():
        return
    _report(rt)


def _poll_batches(rt: Runtime) -> None:
    """Check the waiting runs' batches (docs/batch.md); a run whose batches ended is queued to collect."""
    from monitor.pipeline.run.batch_poll import poll_batches

    try:
        polled = poll_batches(rt.db, rt.config)
    except Exception:  # a provider's trouble must not keep the queue from being worked
        log.exception("work: the batch poll failed; the runs waiting on batches are checked next tick")
        return
    for error in polled.errors:
        log.warning("work: batch poll: %s", error)
    if polled.requeued:
        log.info("work: batches ended for run(s) %s", ", ".join(map(str, polled.requeued)))


def _report(rt: Runtime) -> None:
    """Report the finished events, whoever ran their runs: only the leader writes report files.

    Workers (maybe on other hosts, with other disks) only evaluate, so every report lands in the
    leader's reports directory, the one `serve` serves; completion stays exactly once (complete.py).
    """
    from monitor.pipeline.complete import complete_events

    reported = complete_events(rt.db, rt.config)
    if reported:
        log.info("work: reported event(s) %s", ", ".join(map(str, reported)))
        rt.wake("outbox")


async def _work_until_empty(rt: Runtime) -> int:
    """Evaluate the queue `[schedule] concurrent_runs` runs at a time, reporting as each run ends."""
    from monitor.pipeline.run.totals import RunSummary
    from monitor.pipeline.run.work import work_slots

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def set_stop() -> None:
        loop.call_soon_threadsafe(stop.set)

    async def finished(summary: RunSummary) -> None:
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
        if not stop.is_set():
            await asyncio.to_thread(_report, rt)  # an event a worker finished need not wait for our queue

    remove = rt.on_stop(set_stop)
    try:
        return await work_slots(
            rt.db,
            rt.config,
            worker_id=rt.worker_id,
            stop=stop,
            slots=rt.config.schedule.concurrent_runs,
            finished=finished,
        )
    finally:
        remove()


def drift_job() -> None:
    """Queue a rerun of the baselines and watched aliases; `work` compares and alerts when they finish."""
    _run_job("drift", _drift)


def _drift(rt: Runtime) -> None:
    from monitor.pipeline.complete import start_drift_check

    started = start_drift_check(rt.db, rt.config, fence=rt.fence)
    log.info("drift: checking %d model(s)", len(started))
    if started:
        rt.wake("work")


def outbox_job() -> None:
    """Send pending e-mail and notifications; a failure stays pending with a later retry time."""
    _run_job("outbox", _outbox)


def _outbox(rt: Runtime) -> None:
    from monitor.pipeline.deliver.notify_outbox import flush_notifications

    if rt.config.email is not None:
        from monitor.pipeline.deliver.mailer import flush_outbox

        for error in flush_outbox(rt.db, rt.config.email).errors:
            log.warning("outbox: %s", error)
    for error in flush_notifications(rt.db, rt.config).errors:
        log.warning("notify: %s", error)


def retention_job() -> None:
    """Blank the raw outputs older than `retention_days`; scores, grades and totals stay."""
    _run_job("retention", _retention)


def _retention(rt: Runtime) -> None:
    days = rt.config.schedule.retention_days
    if days is None:
        return
    pruned = prune_outputs(rt.db, older_than=timedelta(days=days))
    if pruned:
        log.info("retention: cleared the output of %d result(s) older than %d days", pruned, days)


JOB_FUNCTIONS: dict[str, Callable[[], None]] = {
    "poll": poll_job,
    "work": work_job,
    "drift": drift_job,
    "outbox": outbox_job,
    "retention": retention_job,
}
