"""What the daemon is doing, read from the database: leader, job times, queue, outbox, provider polls."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Float, Unicode, case, column, func, inspect, select, table

from monitor.core.config import Config
from monitor.pipeline.deliver.notify_outbox import failed_count, pending_counts
from monitor.providers.registry import uncallable_models
from monitor.service.retirements import retirement_warnings
from monitor.service.schedule import JOBS_TABLE
from monitor.store.db import Database
from monitor.store.lease import LeaseState, read_lease
from monitor.store.statuses import UNFINISHED
from monitor.store.tables import OutboxMessage, ProviderPoll, Run, utcnow

SKIPPED_SHOWN = 10


@dataclass(frozen=True)
class JobTime:
    """One scheduled job and when it runs next (None: paused)."""

    id: str
    next_run_at: datetime | None


@dataclass(frozen=True)
class PollInfo:
    """The last poll of one configured provider (`started_at` None: never polled)."""

    provider: str
    started_at: datetime | None = None
    ok: bool | None = None
    error: str | None = None
    listed: int = 0
    new: int = 0
    removed: int = 0
    returned: int = 0


@dataclass
class DaemonStatus:
    """Everything `model-monitor status` shows; `healthy` is its exit status (False -> 1)."""

    now: datetime
    leader: LeaseState | None
    healthy: bool
    problem: str | None
    jobs: list[JobTime] = field(default_factory=list)
    runs: dict[str, int] = field(default_factory=dict)
    mail_pending: int = 0
    mail_failing: int = 0
    # [[notify]] messages: waiting, failing for a day or more (SLOW_AFTER_ATTEMPTS), refused for good.
    notify_pending: int = 0
    notify_stalled: int = 0
    notify_failed: int = 0
    polls: list[PollInfo] = field(default_factory=list)
    # Runs the cost guard skipped (newest first): (run id, model, suite, why); `resume ID --yes` runs one.
    skipped: list[tuple[int, str, str, str]] = field(default_factory=list)
    # Baselines and judges that cannot be called (no key, unknown provider): nothing is queued for them.
    config_problems: list[str] = field(default_factory=list)
    # Baseline and watched models within their retirement window or past their date (docs/retirements.md).
    retirements: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.leader is not None:
            data["leader"]["heartbeat_age_s"] = round(self.leader.heartbeat_age_s(self.now), 3)
        return data


def _jobs(db: Database) -> list[JobTime]:
    """The job store's rows (written by the leader's scheduler); empty before a daemon ever ran."""
    if not inspect(db.engine).has_table(JOBS_TABLE):
        return []
    jobs = table(JOBS_TABLE, column("id", Unicode), column("next_run_time", Float))
    with db.engine.connect() as conn:
        rows = conn.execute(select(jobs.c.id, jobs.c.next_run_time).order_by(jobs.c.id)).all()
    return [
        JobTime(str(job_id), datetime.fromtimestamp(ts, UTC) if ts is not None else None)
        for job_id, ts in rows
    ]


def _last_polls(db: Database, providers: list[str]) -> list[PollInfo]:
    with db.session() as session:
        latest = (
            select(ProviderPoll.provider, func.max(ProviderPoll.id).label("last_id"))
            .group_by(ProviderPoll.provider)
            .subquery()
        )
        rows = session.scalars(select(ProviderPoll).join(latest, ProviderPoll.id == latest.c.last_id)).all()
    found = {
        row.provider: PollInfo(
            row.provider, row.started_at, row.ok, row.error, row.listed, row.new, row.removed, row.returned
        )
        for row in rows
    }
    names = list(dict.fromkeys([*providers, *sorted(found)]))
    return [found.get(name, PollInfo(name)) for name in names]


def collect_status(db: Database, config: Config, now: datetime | None = None) -> DaemonStatus:
    """Read the daemon's state; unhealthy when no daemon holds the lease or its heartbeat is stale."""
    now = now or utcnow()
    with db.session() as session:
        leader = read_lease(session)
        counts = dict(
            session.execute(
                select(Run.status, func.count()).where(Run.status.in_(UNFINISHED)).group_by(Run.status)
            ).all()
        )
        skipped = [
            (run.id, run.model_key, run.suite.name, run.error or "over budget")
            for run in session.scalars(
                select(Run).where(Run.status == "skipped").order_by(Run.id.desc()).limit(SKIPPED_SHOWN)
            )
        ]
        failing = func.coalesce(func.sum(case((OutboxMessage.attempts > 0, 1), else_=0)), 0)
        mail_pending, mail_failing = session.execute(
            select(func.count(), failing).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        ).one()
        retiring = retirement_warnings(session, config, now.date())
        notify_pending, notify_stalled = pending_counts(session)
        notify_failed = failed_count(session)
    problem = None
    if leader is None:
        problem = "no daemon holds the leader lease"
    elif leader.expired(now):
        problem = (
            f"the leader's heartbeat is stale ({leader.heartbeat_age_s(now):.0f} s old, "
            f"lease expired at {leader.expires_at:%Y-%m-%d %H:%M:%S} UTC)"
        )
    return DaemonStatus(
        now=now,
        leader=leader,
        healthy=problem is None,
        problem=problem,
        jobs=_jobs(db),
        runs={status: int(counts.get(status, 0)) for status in UNFINISHED},
        mail_pending=int(mail_pending or 0),
        mail_failing=int(mail_failing or 0),
        notify_pending=notify_pending,
        notify_stalled=notify_stalled,
        notify_failed=notify_failed,
        polls=_last_polls(db, list(config.providers)),
        skipped=skipped,
        config_problems=uncallable_models(config),
        retirements=retiring,
    )
