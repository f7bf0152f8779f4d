"""The database tables (SQLAlchemy 2.0 typed mappings) for the data model in docs/architecture.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.store.tables_base import Base as Base
from monitor.store.tables_base import OutboxColumns as OutboxColumns
from monitor.store.tables_base import utcnow as utcnow
from monitor.store.tables_service import Batch as Batch
from monitor.store.tables_service import BudgetDay as BudgetDay
from monitor.store.tables_service import BudgetHold as BudgetHold
from monitor.store.tables_service import ConcurrencyLease as ConcurrencyLease
from monitor.store.tables_service import Lease as Lease
from monitor.store.tables_service import Notification as Notification
from monitor.store.tables_service import RateSchedule as RateSchedule
from monitor.store.tables_service import RateWindow as RateWindow


class Model(Base):
    """A model a provider listed at least once; `removed_at` set while it is missing."""

    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("provider", "model_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(100))
    model_id: Mapped[str] = mapped_column(String(300))
    display_name: Mapped[str | None] = mapped_column(String(300))
    owned_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime | None]
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    missing_polls: Mapped[int] = mapped_column(Integer, default=0)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    api: Mapped[str | None] = mapped_column(String(20))
    """The OpenAI endpoint the model answers on, "chat" or "responses", once a call has shown it."""
    retires_at: Mapped[datetime | None]
    """When the provider's own listing says the model stops answering (docs/retirements.md)."""

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.model_id}"


class ProviderPoll(Base):
    """One poll of one provider: whether it worked and what changed (for `status` and reports)."""

    __tablename__ = "provider_polls"
    __table_args__ = (Index("ix_provider_polls_provider_started", "provider", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    listed: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    # The list's shape (how many ids, their fingerprint, the include/exclude filter, suspect or not):
    # how later polls tell a shrunken or widened list from real removals and releases.
    listing: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class Event(Base):
    """Something a user is told about: a new, removed or returned model, or a drift alert.

    `reported_at` is set in the same transaction that enqueues the event's e-mail, so an
    event is reported exactly once. `planned_at` is set in the transaction that queues a
    new-model event's runs: the poll records the event, the queue plans it (exactly once).
    """

    __tablename__ = "events"
    # At most one open drift check per model: two leaders racing cannot open (and mail) two.
    __table_args__ = (
        Index(
            "uq_events_open_drift",
            "provider",
            "model_id",
            unique=True,
            sqlite_where=text("kind = 'drift' AND reported_at IS NULL"),
            postgresql_where=text("kind = 'drift' AND reported_at IS NULL"),
        ),
        # One migration report per retiring model, however many leaders notice the date.
        Index(
            "uq_events_retirement",
            "provider",
            "model_id",
            unique=True,
            sqlite_where=text("kind = 'retirement'"),
            postgresql_where=text("kind = 'retirement'"),
        ),
        Index("ix_events_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # new_model | removed/returned_model | drift | retirement
    provider: Mapped[str] = mapped_column(String(100))
    model_id: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reported_at: Mapped[datetime | None]
    planned_at: Mapped[datetime | None]

    runs: Mapped[list[Run]] = relationship(back_populates="event")

    @property
    def model_key(self) -> str:
        return f"{self.provider}:{self.model_id}"


class Suite(Base):
    """One version of an eval suite: a changed suite is a new row, never mixed with the old."""

    __tablename__ = "suites"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    sample_count: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    samples: Mapped[list[Sample]] = relationship(back_populates="suite")


class Sample(Base):
    """A suite version's sample as rendered: the messages sent and the target, for reports."""

    __tablename__ = "samples"
    __table_args__ = (UniqueConstraint("suite_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suite_id: Mapped[int] = mapped_column(ForeignKey("suites.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer)
    group: Mapped[str | None] = mapped_column(String(300))
    messages: Mapped[list[Any]] = mapped_column(default=list)
    target: Mapped[Any] = mapped_column(JSON, nullable=True)
    choices: Mapped[list[Any] | None] = mapped_column(JSON)
    # Tools, tool_choice, response_format and scripted tool results (SampleSpec.request_fields); None: none.
    request: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    suite: Mapped[Suite] = relationship(back_populates="samples")


class Run(Base):
    """One model evaluated on one suite version; claimed by a worker, resumable."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_status_created", "status", "created_at"),
        # Migration 0009: the report and listing queries over a year of history.
        Index("ix_runs_suite_status", "suite_id", "status"),
        Index("ix_runs_event", "event_id"),
        Index("ix_runs_provider_model", "provider", "model_id", "created_at"),
        Index("ix_runs_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(100))
    model_id: Mapped[str] = mapped_column(String(300))
    suite_id: Mapped[int] = mapped_column(ForeignKey("suites.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    trigger: Mapped[str] = mapped_column(String(20))  # new_model | manual | drift | baseline | retirement
    status: Mapped[str] = mapped_column(String(20), default="queued")
    repeat: Mapped[int] = mapped_column(Integer, default=1)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    estimated_cost_usd: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    # totals, written when the run finishes
    samples_total: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errored: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float | None] = mapped_column(Float)
    cost_usd: Mapped[float | None] = mapped_column(Float)  # None = cost unknown
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_p50_ms: Mapped[float | None] = mapped_column(Float)
    latency_p95_ms: Mapped[float | None] = mapped_column(Float)
    resolved_model: Mapped[str | None] = mapped_column(String(300))
    system_fingerprint: Mapped[str | None] = mapped_column(String(200))
    # Early stopping (docs/statistics.md "Early stopping"): the plan the run was monitored under (the
    # random sample order's seed, the baseline run, the family size and the stop level), and, when the
    # sequential test settled the verdict, why the run stopped and after how many samples of its order.
    sequential: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    stop_reason: Mapped[str | None] = mapped_column(Text)
    stopped_after: Mapped[int | None] = mapped_column(Integer)

    suite: Mapped[Suite] = relationship()
    event: Mapped[Event | None] = relationship(back_populates="runs")
    results: Mapped[list[Result]] = relationship(back_populates="run")

    @property
    def model_key(self) -> str:
        return f"{self.provider}:{self.model_id}"


class Result(Base):
    """One sample's answer and grade; unique per (run, sample, repeat) so a resume never doubles."""

    __tablename__ = "results"
    # ix_results_price_source (migration 0009) is dialect-specific (NOCASE on SQLite, a pattern
    # operator class on PostgreSQL), so only the migration declares it.
    __table_args__ = (
        UniqueConstraint("run_id", "sample_key", "repeat"),
        Index("ix_results_run_id", "run_id", "id"),
        # Migration 0011: the metrics' errors by kind read only the errored rows.
        Index(
            "ix_results_error_kind",
            "error_kind",
            sqlite_where=text("error_kind IS NOT NULL"),
            postgresql_where=text("error_kind IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    sample_key: Mapped[str] = mapped_column(String(300))
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    prompt_hash: Mapped[str] = mapped_column(String(64))
    output: Mapped[str | None] = mapped_column(Text)
    # The function calls the model made over the sample's turns ({id, name, arguments}); None: none.
    tool_calls: Mapped[list[Any] | None] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)  # None when errored
    passed: Mapped[bool | None] = mapped_column(Boolean)
    grades: Mapped[list[Any]] = mapped_column(default=list)
    error_kind: Mapped[str | None] = mapped_column(String(50))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    # Parts of input_tokens read from / written to the provider's prompt cache, and of output_tokens spent
    # reasoning, when the provider reports them.
    cached_input_tokens: Mapped[int | None] = mapped_column(Integer)
    cache_write_tokens: Mapped[int | None] = mapped_column(Integer)
    reasoning_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    # Where cost_usd's price came from: "config", "catalogue (…)" or "estimated upper bound (…)".
    price_source: Mapped[str | None] = mapped_column(String(200))
    finish_reason: Mapped[str | None] = mapped_column(String(50))
    resolved_model: Mapped[str | None] = mapped_column(String(300))
    system_fingerprint: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    run: Mapped[Run] = relationship(back_populates="results")


class JudgeVerdict(Base):
    """Cache of llm-judge calls keyed by a hash of (judge model, rubric, prompt, answer)."""

    __tablename__ = "judge_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    judge_model: Mapped[str] = mapped_column(String(300))
    score: Mapped[float] = mapped_column(Float)
    reasoning: Mapped[str | None] = mapped_column(Text)
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Report(Base):
    """A written HTML report: where it is and what it covers."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # event | run | index
    path: Mapped[str] = mapped_column(String(500))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    run_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(OutboxColumns, Base):
    """A durable e-mail: enqueued with the event it reports, sent at most once after success."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_outbox_status_next_try", "status", "next_try_at"),
    )

    subject: Mapped[str] = mapped_column(String(500))
    sender: Mapped[str] = mapped_column(String(300))
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    message: Mapped[str] = mapped_column(Text)  # the whole MIME message as text
