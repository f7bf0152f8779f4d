"""The service's tables: the leader lease, shared limits, the budget, batches, notifications.

Declared here to keep tables.py short; tables.py re-exports them, so `monitor.store.tables` names
every table and `Base.metadata` holds them all once tables.py is imported.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from monitor.store.tables_base import Base, OutboxColumns, utcnow


class Lease(Base):
    """A named lease (the scheduler's leader lease) held by one process while it heartbeats.

    `holder` names the process for people; `token` (random per process) is what makes it ours;
    `generation` grows on every acquisition, so a deposed leader's late write can be refused.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    token: Mapped[str] = mapped_column(String(64), default="", server_default="")
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class RateWindow(Base):
    """Requests a provider account has spent in one fixed minute, counted for every process and host."""

    __tablename__ = "rate_windows"

    account: Mapped[str] = mapped_column(String(500), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch seconds, a multiple of 60
    used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class BudgetDay(Base):
    """One UTC day's budget: what running runs have reserved and what settled runs really cost."""

    __tablename__ = "budget_days"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD
    reserved_usd: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    spent_usd: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")


class BudgetHold(Base):
    """A run's reservation on a day's budget: open while it runs, settled with its real cost after."""

    __tablename__ = "budget_holds"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10))
    reserved_usd: Mapped[float] = mapped_column(Float)
    cost_before_usd: Mapped[float] = mapped_column(Float, default=0.0)  # the run's cost when reserved
    open: Mapped[bool] = mapped_column(Boolean, default=True)


class Batch(Base):
    """Requests of one run sent together to a provider's batch API; `remote_id` resumes it after a crash."""

    __tablename__ = "batches"
    __table_args__ = (Index("ix_batches_status", "status"), Index("ix_batches_run", "run_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(100))
    remote_id: Mapped[str | None] = mapped_column(String(200))  # the provider's batch id once submitted
    status: Mapped[str] = mapped_column(String(20), default="preparing")
    custom_ids: Mapped[list[Any]] = mapped_column(default=list)  # the requests it carries
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Notification(OutboxColumns, Base):
    """A durable chat or webhook message for one event and one [[notify]] target, sent at most once."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_notifications_status_next_try", "status", "next_try_at"),
    )

    target: Mapped[str] = mapped_column(String(100))  # the target's name; its URL stays in the environment
    kind: Mapped[str] = mapped_column(String(30))  # new_model | regression | drift | retirement | skipped
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the event's JSON, for webhooks


class RateSchedule(Base):
    """The next free send time of an account's shared requests/min, for every host."""

    __tablename__ = "rate_schedules"

    account: Mapped[str] = mapped_column(String(500), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)  # epoch seconds


class ConcurrencyLease(Base):
    """Concurrency slots of an account one process holds until `expires_at` (renewed);
    the row with holder '' is the account's lock."""

    __tablename__ = "concurrency_leases"

    account: Mapped[str] = mapped_column(String(500), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), primary_key=True)
    slots: Mapped[int] = mapped_column(Integer)
    wanted: Mapped[int] = mapped_column(Integer)  # slots it would use: its fair share is computed from these
    expires_at: Mapped[float] = mapped_column(Float)  # epoch seconds
