"""An extra evaluation worker: claims queued runs next to the leader daemon, without a scheduler.

Claims are atomic (see pipeline.queue), so any number of workers and the leader can share one
queue. A worker only evaluates: it may run on another host, so reporting finished events (report
files, index, e-mail) is left to the leader daemon, whose reports directory is the one `serve` serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from sqlalchemy.exc import SQLAlchemyError

from monitor.core.config import Config
from monitor.core.errors import MonitorError
from monitor.store.db import Database

log = logging.getLogger("monitor.worker")


async def work_loop(
    db: Database, config: Config, *, worker_id: str, idle_s: float, stop: asyncio.Event
) -> int:
    """Evaluate runs, `[schedule] concurrent_runs` at a time, until `stop` is set, waiting `idle_s`
    when the queue is empty; returns runs finished.

    Finished events are not reported here: the leader's work job reports them (see the module doc).
    """
    from monitor.pipeline.run.totals import RunSummary
    from monitor.pipeline.run.work import work_slots

    async def finished(summary: RunSummary) -> None:
        log.info("run %d %s on %s: %s", summary.run_id, summary.model_key, summary.suite, summary.status)

    total = 0
    while not stop.is_set():
        try:
            done = await work_slots(
                db,
                config,
                worker_id=worker_id,
                stop=stop,
                slots=config.schedule.concurrent_runs,
                finished=finished,
            )
        except Exception:
            log.exception("worker: a run failed to execute; waiting before the next claim")
            done = 0
        total += done
        if done:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), idle_s)
    return total


def run_worker(config: Config, *, worker_id: str, idle_s: float) -> int:
    """Run a worker until SIGTERM/SIGINT (in-flight samples finish, the run is left resumable); exit 0."""
    from monitor.providers.limits import share_limits_through
    from monitor.service.metrics import serving_metrics
    from monitor.store.db import open_database

    try:
        db = open_database(config.database_url)
    except SQLAlchemyError as exc:
        raise MonitorError(f"cannot open the database: {exc.__class__.__name__}") from exc
    share_limits_through(db)  # `shared_limits = true` accounts count their limits with every process

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        log.info("worker %s starting", worker_id)
        return await work_loop(db, config, worker_id=worker_id, idle_s=idle_s, stop=stop)

    try:
        with serving_metrics(config):  # before any work; stopped last
            finished = asyncio.run(main())
    finally:
        db.dispose()
    log.info("worker stopped after %d run(s)", finished)
    return 0
