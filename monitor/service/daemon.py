"""The daemon process: a leader lease, the scheduler while it leads, signals and a clean shutdown.

Only the holder of the `scheduler` lease runs a scheduler; another daemon on the same database
waits as a standby and takes over once the lease expires. The leader stops leading once it has
not renewed for half the lease, and its jobs check the lease's generation before they write.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from types import FrameType

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from monitor.core.config import Config
from monitor.core.errors import MonitorError
from monitor.providers.registry import uncallable_models
from monitor.service.jobs import Runtime, serving
from monitor.service.schedule import build_scheduler, install_jobs, job_triggers
from monitor.store.db import Database, Timeouts, make_engine
from monitor.store.lease import DEFAULT_TTL_S, LeaderLease
from monitor.store.tables import Run

log = logging.getLogger("monitor.daemon")

DEFAULT_GRACE_S = 30.0


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
    def step_down_s(self) -> float:
        """Unrenewed this long, the leader stops: half the lease, long before a standby may take it."""
        return self.lease_ttl_s / 2

    @property
    def standby_poll_s(self) -> float:
        return min(5.0, max(0.1, self.lease_ttl_s / 5))

    @property
    def lease_timeouts(self) -> Timeouts:
        """The lease connection's limits: a lease call that hangs longer than this has failed."""
        limit_s = max(0.05, self.lease_ttl_s / 4)
        return Timeouts(connect_s=limit_s, statement_ms=round(limit_s * 1000), busy_ms=round(limit_s * 1000))


def release_dead_local_runs(db: Database, worker_id: str) -> int:
    """Mark `interrupted` the running runs whose worker is gone, so they resume at once.

    Gone: a holder this machine proves dead (its lock file here is free, see `store.holders`), or
    this very worker id from an earlier life (a worker id names one live process; a daemon that is
    just starting holds no run yet). Other runs wait for their heartbeat to go stale; the dead
    holders' lock files are deleted once their runs are released.
    """
    from monitor.pipeline.queue import holder_is_dead
    from monitor.store.holders import forget_dead

    released = 0
    with db.session() as session:
        running = session.execute(select(Run.id, Run.claimed_by).where(Run.status == "running")).all()
        for run_id, holder in running:
            if holder and (holder == worker_id or holder_is_dead(db, holder)):
                result = session.execute(
                    update(Run)
                    .where(Run.id == run_id, Run.status == "running", Run.claimed_by == holder)
                    .values(status="interrupted")
                    .execution_options(synchronize_session=False)
                )
                released += int(getattr(result, "rowcount", 0) or 0)
    forget_dead(db.engine.url)
    return released


class Daemon:
    """One daemon process: standby until it holds the lease, then leader until stopped or outvoted."""

    def __init__(self, config: Config, db: Database, options: DaemonOptions) -> None:
        job_triggers(config.schedule)  # bad cron expressions are config errors before anything starts
        self.config = config
        self.db = db
        self.options = options
        # The lease has its own connections with short timeouts, so jobs cannot starve or stall it.
        self.lease_db = Database(make_engine(config.database_url, timeouts=options.lease_timeouts))
        self.lease = LeaderLease(self.lease_db, options.worker_id, ttl_s=options.lease_ttl_s)
        self.shutdown = threading.Event()
        self.monotonic: Callable[[], float] = time.monotonic
        self._renewer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lease-renew")
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
        for problem in uncallable_models(self.config):
            log.warning("config problem: %s; nothing is queued for it until that is fixed", problem)
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
        self._renewer.shutdown(wait=False, cancel_futures=True)
        self.lease_db.dispose()
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
        runtime = Runtime(self.config, self.db, self.options.worker_id, fence=self.lease.fence())
        released = release_dead_local_runs(self.db, self.options.worker_id)
        if released:
            log.info("%d run(s) of a dead local worker made resumable", released)
        scheduler = build_scheduler(self.config)
        runtime.scheduler = scheduler
        with serving(runtime):
            scheduler.start(paused=True)
            try:
                install_jobs(scheduler, self.config)
                scheduler.resume()
                lost = self._hold_lease()
            finally:
                runtime.request_stop()
                scheduler.pause()
                scheduler.shutdown(wait=False)
                stuck = runtime.wait_idle(self.options.grace_s)
        return lost, stuck

    def _hold_lease(self) -> bool:
        """Renew the lease every heartbeat until shutdown (returns False) or leadership ends (True).

        Leadership ends when a renewal says the lease is gone, or when none succeeded for
        `step_down_s` (half the lease: a frozen, slow or cut-off leader stops before a standby can
        take over); a renewal that does not answer within that time counts as failed.
        """
        last_renewed = self.monotonic()
        while not self.shutdown.wait(self.options.heartbeat_s):
            started = self.monotonic()
            left = self.options.step_down_s - (started - last_renewed)
            if left <= 0:
                log.warning("no lease renewal for %.1f s: stepping down", started - last_renewed)
                return True
            renewed = self._renew(left)
            if renewed:
                last_renewed = started
            elif renewed is False:
                return True
            elif self.monotonic() - last_renewed >= self.options.step_down_s:
                log.warning("no lease renewal for %.1f s: stepping down", self.monotonic() - last_renewed)
                return True
        return False

    def _renew(self, deadline_s: float) -> bool | None:
        """Renew under a deadline: True renewed, False the lease is gone, None failed or too slow."""
        future = self._renewer.submit(self.lease.renew)
        try:
            return future.result(timeout=deadline_s)
        except FutureTimeout:
            log.warning("leader heartbeat: no answer from the database within %.1f s", deadline_s)
        except SQLAlchemyError as exc:
            log.warning("leader heartbeat failed: %s", exc)
        return None


def _safe_url(url: str) -> str:
    """The database URL without its password, for logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


def run_daemon(config: Config, options: DaemonOptions) -> int:
    """Open the database (migrating it), install signal handlers and run the daemon until stopped."""
    from monitor.providers.limits import share_limits_through
    from monitor.service.metrics import serving_metrics
    from monitor.store.db import open_database

    try:
        db = open_database(config.database_url)
    except SQLAlchemyError as exc:
        raise MonitorError(
            f"cannot open the database {_safe_url(config.database_url)}: {exc.__class__.__name__}"
        ) from exc
    share_limits_through(db)  # `shared_limits = true` accounts count their limits with every process
    try:
        daemon = Daemon(config, db, options)
        with serving_metrics(config, lease=lambda: daemon.lease):  # before any work; stopped last
            daemon.install_signal_handlers()
            return daemon.run()
    finally:
        db.dispose()
