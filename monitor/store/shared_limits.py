"""Atomic counters other processes share: requests taken from an account's minute, a day's budget."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from monitor.store.db import Database
from monitor.store.tables import BudgetDay, RateWindow

KEEP_WINDOWS_S = 3600
"""Windows older than this are deleted when an account opens a new one (they only ever grow stale)."""


def _insert_ignore(session: Session, table: type[RateWindow] | type[BudgetDay], **values: object) -> bool:
    """Insert a row unless its key exists (INSERT ... ON CONFLICT DO NOTHING); True when inserted."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(**values).on_conflict_do_nothing()
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def take_requests(db: Database, account: str, window_start: int, wanted: int, limit: int) -> int:
    """Take up to `wanted` requests from the account's window without its total passing `limit`.

    Returns how many were taken (0 when the window is spent). The window's row is locked (PostgreSQL's
    FOR UPDATE; SQLite's write lock, taken by the insert) while what is left is read, and the UPDATE is
    conditional on the total staying within the limit, so processes taking at once never pass it.
    """
    window = (RateWindow.account == account, RateWindow.window_start == window_start)
    with db.session() as session:
        if _insert_ignore(session, RateWindow, account=account, window_start=window_start, used=0):
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
    _insert_ignore(session, BudgetDay, day=day, reserved_usd=0.0, spent_usd=0.0)


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
