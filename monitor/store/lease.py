"""The leader lease: one row per name, taken atomically, renewed by a heartbeat, fenced by a generation.

Acquiring is an UPDATE of an expired (or our own) row, else an INSERT of a missing one; the
database's row lock or unique key decides every race, on SQLite and PostgreSQL alike. Every time
comes from the database's clock, so the hosts' clocks do not matter. Each acquisition increments
the row's `generation`; a leader's writes call `Fence.check` in their own transaction, which
refuses (`LeaseLost`) once the lease expired or another acquisition happened, and holds the row
until commit, so a deposed leader's late job writes nothing. Whether a row is ours is decided by
a random per-process token, never by the host name or pid in `holder` (those are for display).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, delete, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.core.errors import MonitorError
from monitor.store.db import Database
from monitor.store.tables import Lease, utcnow

SCHEDULER_LEASE = "scheduler"
DEFAULT_TTL_S = 30.0


class LeaseLost(MonitorError):
    """This process no longer holds the lease at the generation it acquired: it must not write."""


def database_now(session: Session) -> datetime:
    """The database server's current UTC time (SQLite: the file's host; PostgreSQL: the server)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        value = session.scalar(text("SELECT clock_timestamp() AT TIME ZONE 'UTC'"))
    else:
        value = session.scalar(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"))
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"the database returned {value!r} for the current time")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class LeaseState:
    """A lease row as read: who holds it, since when, and until when unless renewed."""

    name: str
    holder: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime
    generation: int = 0

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or utcnow())

    def heartbeat_age_s(self, now: datetime | None = None) -> float:
        return ((now or utcnow()) - self.heartbeat_at).total_seconds()


def read_lease(session: Session, name: str = SCHEDULER_LEASE) -> LeaseState | None:
    """The lease row, expired or not; None when nobody has ever held it (or it was released)."""
    row = session.scalars(select(Lease).where(Lease.name == name)).one_or_none()
    if row is None:
        return None
    return LeaseState(row.name, row.holder, row.acquired_at, row.heartbeat_at, row.expires_at, row.generation)


@dataclass(frozen=True)
class Fence:
    """One leader term's right to write: the lease name, our token and the generation we acquired."""

    name: str
    token: str
    generation: int
    clock: Callable[[Session], datetime]

    def check(self, session: Session) -> None:
        """Raise `LeaseLost` unless the term is still current; locks the lease row until commit."""
        now = self.clock(session)
        held = session.execute(
            update(Lease)
            .where(
                Lease.name == self.name,
                Lease.token == self.token,
                Lease.generation == self.generation,
                Lease.expires_at > now,
            )
            .values(generation=Lease.generation)
            .execution_options(synchronize_session=False)
        )
        if getattr(held, "rowcount", 0) != 1:
            raise LeaseLost(f"the {self.name} lease of generation {self.generation} is no longer held")


class LeaderLease:
    """One process's handle on a named lease: `try_acquire`, then `renew` every heartbeat, `release`.

    `clock`, when given, replaces the database's clock (tests age a lease without waiting).
    """

    def __init__(
        self,
        db: Database,
        holder: str,
        *,
        name: str = SCHEDULER_LEASE,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("a lease needs a positive ttl")
        self.db = db
        self.holder = holder
        self.name = name
        self.ttl = timedelta(seconds=ttl_s)
        self.clock = clock
        self.token = secrets.token_hex(16)
        self.generation = 0

    def now(self, session: Session) -> datetime:
        """The time every lease decision uses: the database's clock unless a test injected one."""
        return self.clock() if self.clock is not None else database_now(session)

    def _ours(self) -> ColumnElement[bool]:
        return and_(Lease.holder == self.holder, Lease.token == self.token)

    def try_acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours (a new generation either way)."""
        ours = self._ours()
        with self.db.session() as session:
            now = self.now(session)
            took = session.execute(
                update(Lease)
                .where(Lease.name == self.name, or_(Lease.expires_at <= now, ours))
                .values(
                    holder=self.holder,
                    token=self.token,
                    acquired_at=case((ours, Lease.acquired_at), else_=now),
                    heartbeat_at=now,
                    expires_at=now + self.ttl,
                    generation=Lease.generation + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if getattr(took, "rowcount", 0) == 1:
                self.generation = int(
                    session.scalar(select(Lease.generation).where(Lease.name == self.name)) or 0
                )
                return True
            if session.scalar(select(Lease.name).where(Lease.name == self.name)) is not None:
                return False
        try:
            with self.db.session() as session:
                now = self.now(session)
                session.execute(
                    insert(Lease).values(
                        name=self.name,
                        holder=self.holder,
                        token=self.token,
                        generation=1,
                        acquired_at=now,
                        heartbeat_at=now,
                        expires_at=now + self.ttl,
                    )
                )
        except IntegrityError:
            return False
        self.generation = 1
        return True

    def renew(self) -> bool:
        """Extend our unexpired lease; False once it expired or another process took it."""
        with self.db.session() as session:
            now = self.now(session)
            renewed = session.execute(
                update(Lease)
                .where(
                    Lease.name == self.name,
                    self._ours(),
                    Lease.generation == self.generation,
                    Lease.expires_at > now,
                )
                .values(heartbeat_at=now, expires_at=now + self.ttl)
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(renewed, "rowcount", 0) == 1)

    def fence(self) -> Fence:
        """The write guard of the current term (the generation of the last acquisition)."""
        return Fence(self.name, self.token, self.generation, self.now)

    def release(self) -> None:
        """Give the lease up at once (a standby may take it immediately); a no-op if it is not ours."""
        with self.db.session() as session:
            session.execute(
                delete(Lease)
                .where(Lease.name == self.name, self._ours())
                .execution_options(synchronize_session=False)
            )

    def state(self) -> LeaseState | None:
        with self.db.session() as session:
            return read_lease(session, self.name)
