"""The leader lease: one row per name, taken atomically, kept alive by a heartbeat, free once expired.

Acquiring is an UPDATE of an expired (or our own) row, else an INSERT of a missing one; the
database's row lock or unique key decides every race, on SQLite and PostgreSQL alike. Times come
from the holders' clocks, so hosts sharing a database need synchronised clocks (NTP); the lease
length should be several heartbeats long.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.store.db import Database
from monitor.store.tables import Lease, utcnow

SCHEDULER_LEASE = "scheduler"
DEFAULT_TTL_S = 30.0


def default_holder() -> str:
    """A holder id unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class LeaseState:
    """A lease row as read: who holds it, since when, and until when unless renewed."""

    name: str
    holder: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or utcnow())

    def heartbeat_age_s(self, now: datetime | None = None) -> float:
        return ((now or utcnow()) - self.heartbeat_at).total_seconds()


def read_lease(session: Session, name: str = SCHEDULER_LEASE) -> LeaseState | None:
    """The lease row, expired or not; None when nobody has ever held it (or it was released)."""
    row = session.scalars(select(Lease).where(Lease.name == name)).one_or_none()
    if row is None:
        return None
    return LeaseState(row.name, row.holder, row.acquired_at, row.heartbeat_at, row.expires_at)


class LeaderLease:
    """One process's handle on a named lease: `try_acquire`, then `renew` every heartbeat, `release`.

    `clock` is this holder's UTC now (injectable so tests can age a lease without waiting).
    """

    def __init__(
        self,
        db: Database,
        holder: str,
        *,
        name: str = SCHEDULER_LEASE,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("a lease needs a positive ttl")
        self.db = db
        self.holder = holder
        self.name = name
        self.ttl = timedelta(seconds=ttl_s)
        self.clock = clock

    def try_acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours; False while another holder keeps it."""
        now = self.clock()
        take_over = (
            update(Lease)
            .where(Lease.name == self.name, or_(Lease.expires_at <= now, Lease.holder == self.holder))
            .values(
                holder=self.holder,
                acquired_at=case((Lease.holder == self.holder, Lease.acquired_at), else_=now),
                heartbeat_at=now,
                expires_at=now + self.ttl,
            )
            .execution_options(synchronize_session=False)
        )
        with self.db.session() as session:
            if session.execute(take_over).rowcount == 1:  # type: ignore[attr-defined]
                return True
            if session.scalar(select(Lease.name).where(Lease.name == self.name)) is not None:
                return False
        try:
            with self.db.session() as session:
                session.execute(
                    insert(Lease).values(
                        name=self.name,
                        holder=self.holder,
                        acquired_at=now,
                        heartbeat_at=now,
                        expires_at=now + self.ttl,
                    )
                )
        except IntegrityError:
            return False
        return True

    def renew(self) -> bool:
        """Extend our lease; False when it is no longer ours (another process took it after expiry)."""
        now = self.clock()
        stmt = (
            update(Lease)
            .where(Lease.name == self.name, Lease.holder == self.holder)
            .values(heartbeat_at=now, expires_at=now + self.ttl)
            .execution_options(synchronize_session=False)
        )
        with self.db.session() as session:
            return bool(session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]

    def release(self) -> None:
        """Give the lease up at once (a standby may take it immediately); a no-op if it is not ours."""
        with self.db.session() as session:
            session.execute(
                delete(Lease)
                .where(Lease.name == self.name, Lease.holder == self.holder)
                .execution_options(synchronize_session=False)
            )

    def state(self) -> LeaseState | None:
        with self.db.session() as session:
            return read_lease(session, self.name)
