"""Atomic counters other processes share: an account's send schedule and minutes, a day's budget."""

from __future__ import annotations

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session

from monitor.store.db import Database, dialect_insert
from monitor.store.tables import Base, BudgetDay, RateSchedule, RateWindow

KEEP_WINDOWS_S = 3600
"""Windows older than this are deleted when an account opens a new one (they only ever grow stale)."""


def insert_ignore(session: Session, table: type[Base], **values: object) -> bool:
    """Insert a row unless its key exists (INSERT ... ON CONFLICT DO NOTHING); True when inserted."""
    statement = dialect_insert(session, table).values(**values).on_conflict_do_nothing()
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def reserve_sends(db: Database, account: str, now: float, count: int, interval: float) -> float:
    """Reserve the account's next `count` send times, `interval` seconds apart, and return the first.

    The schedule's next free time moves on by `count * interval` in one UPDATE (which locks the row on
    both databases), from `now` when it lies in the past: idle time is never saved up for a burst, so
    the processes together never send faster than one request per `interval`.
    """
    schedule = RateSchedule.account == account
    free = case((RateSchedule.next_at > now, RateSchedule.next_at), else_=now)
    move = update(RateSchedule).where(schedule).values(next_at=free + count * interval)
    with db.session() as session:
        if not session.execute(move).rowcount:  # type: ignore[attr-defined]
            insert_ignore(session, RateSchedule, account=account, next_at=now)
            session.execute(move)
        end = float(session.scalar(select(RateSchedule.next_at).where(schedule)) or 0.0)
    return end - count * interval


def take_requests(db: Database, account: str, window_start: int, wanted: int, limit: int) -> int:
    """Take up to `wanted` units (tokens, under an account key of their own) from the account's window
    without its total passing `limit`.

    Returns how many were taken (0 when the window is spent). The window's row is locked (PostgreSQL's
    FOR UPDATE; SQLite's write lock, taken by the insert) while what is left is read, and the UPDATE is
    conditional on the total staying within the limit, so processes taking at once never pass it.
    """
    window = (RateWindow.account == account, RateWindow.window_start == window_start)
    with db.session() as session:
        if insert_ignore(session, RateWindow, account=account, window_start=window_start, used=0):
            stale = RateWindow.window_start < window_start - KEEP_WINDOWS_S
            session.execute(delete(RateWindow).where(RateWindow.account == account, stale))
        used = int(session.scalar(select(RateWindow.used).where(*window).with_for_update()) or 0)
        grant = min(wanted, limit - used)
        if grant <= 0:
            return 0
        taken = session.execute(
            update(RateWindow)
            .where(*window, RateWindow.used + grant <= limit)
            .values(used=RateWindow.used + grant)
        ).rowcount  # type: ignore[attr-defined]
        return grant if taken else 0


def open_day(session: Session, day: str) -> None:
    """Create the day's budget row (once); spending outside reservations is counted by the caller."""
    insert_ignore(session, BudgetDay, day=day, reserved_usd=0.0, spent_usd=0.0)


def reserve_budget(session: Session, day: str, amount: float, limit: float, outside_usd: float) -> bool:
    """Reserve `amount` of the day's budget if it fits with what is reserved, spent and `outside_usd`
    (runs that hold no reservation); one conditional UPDATE, so two workers cannot both pass."""
    reserved = session.execute(
        update(BudgetDay)
        .where(
            BudgetDay.day == day,
            BudgetDay.spent_usd + BudgetDay.reserved_usd + amount + outside_usd <= limit + 1e-9,
        )
        .values(reserved_usd=BudgetDay.reserved_usd + amount)
    ).rowcount  # type: ignore[attr-defined]
    return bool(reserved)


def settle_budget(session: Session, day: str, reserved: float, spent: float) -> None:
    """Give back a reservation and count the real cost in its place."""
    session.execute(
        update(BudgetDay)
        .where(BudgetDay.day == day)
        .values(reserved_usd=BudgetDay.reserved_usd - reserved, spent_usd=BudgetDay.spent_usd + spent)
    )


def day_totals(session: Session, day: str) -> tuple[float, float]:
    """The day's (reserved, spent) in USD."""
    row = session.execute(
        select(BudgetDay.reserved_usd, BudgetDay.spent_usd).where(BudgetDay.day == day)
    ).one()
    return float(row[0]), float(row[1])
