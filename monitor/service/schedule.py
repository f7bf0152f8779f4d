"""The schedule: job triggers from the config (crontab expressions), the scheduler, and its stored jobs.

The scheduler keeps its jobs in the project database, so the schedule survives restarts; an
unchanged job keeps its stored next run time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, cast

from monitor.core.config import Config, ScheduleConfig
from monitor.core.errors import ConfigError
from monitor.service.jobs import JOB_FUNCTIONS
from monitor.store.db import make_engine

if TYPE_CHECKING:
    from apscheduler.job import Job
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.base import BaseTrigger

    from monitor.service.crontab import CrontabTrigger

log = logging.getLogger("monitor.daemon")

JOBS_TABLE = "apscheduler_jobs"
# A job that could not start on time still runs if it is at most this late (then it waits its turn).
MISFIRE_GRACE_S = 600
RETENTION_EVERY_H = 24
# Jobs that run as soon as a daemon becomes leader, not one interval later.
_RUN_AT_START = ("poll", "work", "outbox", "retention")


def cron_trigger(expr: str, zone: tzinfo = UTC) -> CrontabTrigger:
    """A 5-field crontab expression (minute hour day month weekday, crontab(5) meaning), in UTC by default."""
    from monitor.service.crontab import CrontabTrigger

    return CrontabTrigger(expr, zone)


def job_triggers(schedule: ScheduleConfig) -> dict[str, BaseTrigger]:
    """The trigger of every job the config asks for (cron expressions are in UTC)."""
    from apscheduler.triggers.interval import IntervalTrigger

    def cron(key: str, expr: str) -> CrontabTrigger:
        try:
            return cron_trigger(expr)
        except ValueError as exc:
            raise ConfigError(f"[schedule] {key} = {expr!r} {exc}") from None

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
    stored = {job_id: _stored_job(scheduler, job_id) for job_id in JOB_FUNCTIONS}
    for job_id, trigger in triggers.items():
        func = JOB_FUNCTIONS[job_id]
        existing = stored[job_id]
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


def _stored_job(scheduler: BackgroundScheduler, job_id: str) -> Job | None:
    """The stored job `job_id`, or None: none is stored, or its function moved (the row is dropped).

    A job stored by an older version may name a function path that no longer exists; restoring it
    would fail, so it goes and `install_jobs` adds it afresh.
    """
    try:
        return scheduler.get_job(job_id)
    except LookupError as exc:
        log.info("stored job %s names a function that no longer exists (%s); replacing it", job_id, exc)
        scheduler.remove_job(job_id)
        return None
