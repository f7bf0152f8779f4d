"""The Prometheus metrics read from the database at scrape time: polls, models, runs, spend, outbox, leader.

Everything here is something the database knows, so it is read when Prometheus scrapes rather than
counted in memory: every process (daemon, standby, workers) shows the same values, and a restart
loses nothing. Each query is bounded and indexed (docs/ops.md "Metrics" gives the cost on a year of
history); the one that would grow with history, polls by outcome, is counted incrementally.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from monitor.core.config import Config
from monitor.pipeline.deliver.mailer import SLOW_AFTER_ATTEMPTS
from monitor.pipeline.deliver.outbox import FAILED
from monitor.providers.spending import spent_today
from monitor.store.db import Database
from monitor.store.lease import SCHEDULER_LEASE, LeaderLease, database_now
from monitor.store.statuses import RUN_STATUSES, UNFINISHED
from monitor.store.tables import (
    Lease,
    Model,
    Notification,
    OutboxMessage,
    ProviderPoll,
    Result,
    Run,
    utcnow,
)

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

log = logging.getLogger("monitor.metrics")

PREFIX = "model_monitor_"
SETTLE_ROWS = 1000
"""Poll rows this far behind the newest are counted once and kept: no transaction is still writing them."""
LIVE = UNFINISHED  # runs whose totals on the row are not written yet
"""Run statuses whose totals on the row may be stale: their samples are counted from their results."""
INF = math.inf


@dataclass
class PollCounter:
    """`provider_polls` counted by (provider, ok) without rereading old rows on every scrape.

    Rows more than `settle_rows` ids behind the newest are folded into `settled` once; only the
    rows after them are counted each time. (Ids on PostgreSQL need not commit in order, so the
    newest rows are recounted until they are that far behind: a late commit among them is seen.)
    """

    settle_rows: int = SETTLE_ROWS
    settled: Counter[tuple[str, bool]] = field(default_factory=Counter)
    settled_id: int = 0

    def read(self, session: Session) -> Counter[tuple[str, bool]]:
        """Every poll so far by (provider, ok): the settled counts plus the rows after them."""
        newest = int(session.scalar(select(func.max(ProviderPoll.id))) or 0)
        fold_to = newest - self.settle_rows
        if fold_to > self.settled_id:
            self.settled.update(self._count(session, self.settled_id, fold_to))
            self.settled_id = fold_to
        return self.settled + self._count(session, self.settled_id, None)

    @staticmethod
    def _count(session: Session, after: int, upto: int | None) -> Counter[tuple[str, bool]]:
        """The rows in (after, upto]: grouped by the database the first time (all of them), else read.

        A later range is read row by row: SQLite would group it by walking the provider index
        through every row of the table instead of taking the primary-key range.
        """
        within = [ProviderPoll.id > after] + ([ProviderPoll.id <= upto] if upto is not None else [])
        if after == 0:
            grouped = session.execute(
                select(ProviderPoll.provider, ProviderPoll.ok, func.count())
                .where(*within)
                .group_by(ProviderPoll.provider, ProviderPoll.ok)
            )
            return Counter({(str(provider), bool(ok)): int(n) for provider, ok, n in grouped})
        rows = session.execute(select(ProviderPoll.provider, ProviderPoll.ok).where(*within))
        return Counter((str(provider), bool(ok)) for provider, ok in rows)


@dataclass(frozen=True)
class Pending:
    """One outbox's (or target's) pending messages: how many, failing, stalled, and the oldest's time."""

    pending: int = 0
    failing: int = 0
    stalled: int = 0
    oldest: datetime | None = None


def _age_s(now: datetime, then: datetime | None) -> float:
    """Seconds since `then`; +Inf when it never happened (an alert on "older than" fires)."""
    return INF if then is None else max(0.0, (now - then).total_seconds())


class DatabaseCollector:
    """A prometheus_client collector: every metric of docs/ops.md "Metrics", read at scrape time.

    `lease` is the daemon's leader lease (None in a worker, which never leads). Scrapes are
    serialised (the poll counter's state, and one scrape's load on the database at a time).
    """

    def __init__(
        self,
        config: Config,
        db: Database,
        *,
        lease: Callable[[], LeaderLease] | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.db = db
        self.lease = lease
        self.now = now
        self.polls = PollCounter()
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        """Yield the metric families; a database that does not answer gives database_up 0, not a 500."""
        from prometheus_client.core import GaugeMetricFamily

        with self._lock:
            started = time.perf_counter()
            try:
                with self.db.session() as session:
                    families = list(self._read(session))
                up = 1.0
            except SQLAlchemyError as exc:
                log.warning("metrics: cannot read the database: %s", exc.__class__.__name__)
                families, up = [], 0.0
            took = time.perf_counter() - started
        yield from families
        yield GaugeMetricFamily(
            PREFIX + "database_up", "1 when the last scrape could read the database, else 0.", value=up
        )
        yield GaugeMetricFamily(
            PREFIX + "scrape_duration_seconds", "Seconds the last scrape spent reading the database.", took
        )

    def _read(self, session: Session) -> Iterator[Metric]:
        now = self.now()
        yield from self._polls(session, now)
        yield self._models(session)
        yield from self._runs(session, now)
        yield from self._samples(session)
        yield from self._spend(session, now)
        yield from self._outbox(session, now)
        yield from self._leader(session)

    def _providers(self, seen: set[str]) -> list[str]:
        return list(dict.fromkeys([*self.config.providers, *sorted(seen)]))

    def _polls(self, session: Session, now: datetime) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        counts = self.polls.read(session)
        names = self._providers({provider for provider, _ok in counts})
        polls = CounterMetricFamily(
            PREFIX + "polls", "Polls of a provider's model list, by outcome.", labels=["provider", "outcome"]
        )
        last = GaugeMetricFamily(
            PREFIX + "last_poll_age_seconds",
            "Seconds since the provider's last poll, whatever its outcome (+Inf: never polled).",
            labels=["provider"],
        )
        last_ok = GaugeMetricFamily(
            PREFIX + "last_successful_poll_age_seconds",
            "Seconds since the provider's last successful poll (+Inf: none yet).",
            labels=["provider"],
        )
        for name in names:
            polls.add_metric([name, "ok"], counts.get((name, True), 0))
            polls.add_metric([name, "failed"], counts.get((name, False), 0))
            newest = select(ProviderPoll.started_at).where(ProviderPoll.provider == name)
            newest = newest.order_by(ProviderPoll.started_at.desc()).limit(1)
            last.add_metric([name], _age_s(now, session.scalar(newest)))
            last_ok.add_metric([name], _age_s(now, session.scalar(newest.where(ProviderPoll.ok.is_(True)))))
        yield from (polls, last, last_ok)

    def _models(self, session: Session) -> Metric:
        from prometheus_client.core import GaugeMetricFamily

        removed = Model.removed_at.is_not(None)
        rows = session.execute(
            select(Model.provider, removed, func.count()).group_by(Model.provider, removed)
        )
        counts = {(str(p), bool(r)): int(n) for p, r, n in rows}
        family = GaugeMetricFamily(
            PREFIX + "models",
            "Models recorded per provider: active (listed) or removed (missing from the list).",
            labels=["provider", "state"],
        )
        for name in self._providers({p for p, _r in counts}):
            family.add_metric([name, "active"], counts.get((name, False), 0))
            family.add_metric([name, "removed"], counts.get((name, True), 0))
        return family

    def _runs(self, session: Session, now: datetime) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        counts = dict(session.execute(select(Run.status, func.count()).group_by(Run.status)).all())
        runs = GaugeMetricFamily(PREFIX + "runs", "Runs by status.", labels=["status"])
        for status in dict.fromkeys([*RUN_STATUSES, *sorted(counts)]):
            runs.add_metric([status], int(counts.get(status, 0)))
        yield runs
        yield GaugeMetricFamily(
            PREFIX + "queued_runs",
            "Runs waiting for a worker (the queue depth).",
            int(counts.get("queued", 0)),
        )
        oldest = session.scalar(select(func.min(Run.created_at)).where(Run.status == "queued"))
        yield GaugeMetricFamily(
            PREFIX + "oldest_queued_run_age_seconds",
            "Seconds the oldest queued run has waited (0: the queue is empty).",
            0.0 if oldest is None else _age_s(now, oldest),
        )

    def _samples(self, session: Session) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        errored = Result.error_kind.is_not(None)
        answered = Result.error_kind.is_(None)

        def total(column: Any) -> Any:
            return select(func.coalesce(func.sum(column), 0)).where(Run.status.not_in(LIVE)).scalar_subquery()

        def live(condition: Any) -> Any:
            return (
                select(func.coalesce(func.sum(case((condition, 1), else_=0)), 0))
                .select_from(Result)
                .join(Run, Run.id == Result.run_id)
                .where(Run.status.in_(LIVE))
                .scalar_subquery()
            )

        # One statement, so a run finishing between two reads is counted once (a single snapshot).
        row = session.execute(
            select(
                total(Run.passed) + live(and_(answered, Result.passed.is_(True))),
                total(Run.failed) + live(and_(answered, Result.passed.is_(False))),
                total(Run.errored) + live(errored),
            )
        ).one()
        samples = GaugeMetricFamily(
            PREFIX + "samples",
            "Samples stored, by outcome (a gauge: `resume --retry-errors` replaces errored ones).",
            labels=["outcome"],
        )
        for outcome, value in zip(("passed", "failed", "errored"), row, strict=True):
            samples.add_metric([outcome], int(value or 0))
        yield samples
        kinds = session.execute(
            select(Result.error_kind, func.count()).where(errored).group_by(Result.error_kind)
        ).all()
        errors = GaugeMetricFamily(
            PREFIX + "sample_errors", "Errored samples stored, by error kind.", labels=["kind"]
        )
        for kind, count in sorted(kinds):
            errors.add_metric([str(kind)], int(count))
        yield errors

    def _spend(self, session: Session, now: datetime) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        yield GaugeMetricFamily(
            PREFIX + "spend_today_usd",
            "Today's (UTC) spend in USD as the budget counts it: finished runs plus running runs' estimates.",
            spent_today(session, now=now),
        )
        per_day = self.config.budget.max_cost_usd_per_day
        if per_day is not None:
            yield GaugeMetricFamily(
                PREFIX + "budget_per_day_usd", "The daily budget, [budget] max_cost_usd_per_day.", per_day
            )

    def _outbox(self, session: Session, now: datetime) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        labels = ["channel", "target"]
        pending = GaugeMetricFamily(
            PREFIX + "outbox_pending_messages",
            "Messages waiting to be sent (e-mail, and each [[notify]] target).",
            labels=labels,
        )
        failing = GaugeMetricFamily(
            PREFIX + "outbox_failing_messages",
            "Pending messages whose last send failed (retried later, with backoff).",
            labels=labels,
        )
        stalled = GaugeMetricFamily(
            PREFIX + "outbox_stalled_messages",
            f"Pending messages that failed {SLOW_AFTER_ATTEMPTS} times or more (retried every 6 hours).",
            labels=labels,
        )
        oldest = GaugeMetricFamily(
            PREFIX + "outbox_oldest_pending_age_seconds",
            "Seconds the oldest pending message has waited (0: none pending).",
            labels=labels,
        )
        for channel, target, counts in self._pending(session):
            pending.add_metric([channel, target], counts.pending)
            failing.add_metric([channel, target], counts.failing)
            stalled.add_metric([channel, target], counts.stalled)
            oldest.add_metric([channel, target], 0.0 if counts.oldest is None else _age_s(now, counts.oldest))
        yield from (pending, failing, stalled, oldest)
        refused = GaugeMetricFamily(
            PREFIX + "notifications_refused",
            "Notifications a receiver refused for good (a 4xx other than 408/429), kept to be seen.",
            labels=["target"],
        )
        for target, count in self._refused(session):
            refused.add_metric([target], count)
        yield refused

    def _refused(self, session: Session) -> Iterator[tuple[str, int]]:
        """(target, how many of its notifications were refused for good), every configured target."""
        rows = session.execute(
            select(Notification.target, func.count())
            .where(Notification.status == FAILED)
            .group_by(Notification.target)
        ).all()
        found = {str(target): int(count) for target, count in rows}
        for target in self._targets(found):
            yield target, found.get(target, 0)

    def _targets(self, found: Mapping[str, Any]) -> list[str]:
        """The configured [[notify]] targets, then any other the table names (a target since removed)."""
        return list(dict.fromkeys([name for name, _target in self.config.notify_targets()] + sorted(found)))

    def _pending(self, session: Session) -> Iterator[tuple[str, str, Pending]]:
        """(channel, target, its pending messages) for the e-mail outbox and each [[notify]] target."""

        def shape(table: type[OutboxMessage] | type[Notification]) -> tuple[Any, ...]:
            return (
                func.count(),
                func.coalesce(func.sum(case((table.attempts > 0, 1), else_=0)), 0),
                func.coalesce(func.sum(case((table.attempts >= SLOW_AFTER_ATTEMPTS, 1), else_=0)), 0),
                func.min(table.created_at),
            )

        mail = session.execute(select(*shape(OutboxMessage)).where(OutboxMessage.status == "pending")).one()
        yield "email", "", Pending(*mail)
        rows = session.execute(
            select(Notification.target, *shape(Notification))
            .where(Notification.status == "pending")
            .group_by(Notification.target)
        ).all()
        found = {str(target): Pending(*counts) for target, *counts in rows}
        for target in self._targets(found):
            yield "notify", target, found.get(target, Pending())

    def _leader(self, session: Session) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        lease = self.lease() if self.lease is not None else None
        row = session.execute(
            select(Lease.token, Lease.generation, Lease.heartbeat_at, Lease.expires_at).where(
                Lease.name == (lease.name if lease is not None else SCHEDULER_LEASE)
            )
        ).one_or_none()
        now = lease.now(session) if lease is not None else database_now(session)
        yield GaugeMetricFamily(
            PREFIX + "leader_heartbeat_age_seconds",
            "Seconds since the leader lease's last heartbeat, by the database's clock (+Inf: no leader).",
            _age_s(now, row.heartbeat_at) if row is not None else INF,
        )
        if lease is None:
            return
        leads = (
            row is not None
            and row.token == lease.token
            and row.generation == lease.generation
            and row.expires_at > now
        )
        yield GaugeMetricFamily(
            PREFIX + "leader",
            "1 when this daemon holds the leader lease (runs the schedule), else 0.",
            int(leads),
        )
