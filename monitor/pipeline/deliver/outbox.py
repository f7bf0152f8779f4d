"""The claim, retry and count code both outboxes share (e-mails in `outbox`, `notifications`).

A row is claimed by a compare-and-set on `next_try_at` (pushed out by CLAIM_LEASE_S; portable, no
row locks) before it is sent, so two senders never send it at once and a crashed one's row becomes
due again when the lease ends. A failure retries it later, with the backoff of `retry_delay`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import func, select, update

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult
    from sqlalchemy.orm import Session

    from monitor.store.db import Database
    from monitor.store.tables import OutboxColumns

Row = TypeVar("Row", bound="OutboxColumns")
T = TypeVar("T")

RETRY_BASE_S = 60.0
RETRY_CAP_S = 3600.0
SLOW_AFTER_ATTEMPTS = 20
SLOW_RETRY_S = 6 * 3600.0
CLAIM_LEASE_S = 900.0
FAILED = "failed"
"""The status of a row its receiver refused for good (kept, with its error, to be seen)."""


def retry_delay(attempts: int, *, jitter: random.Random | None = None) -> timedelta:
    """Wait before the next try after `attempts` failures: 1, 2, 4 ... minutes up to an hour,
    then every 6 hours after SLOW_AFTER_ATTEMPTS; ±10% jitter so a backlog does not retry in step."""
    if attempts >= SLOW_AFTER_ATTEMPTS:
        seconds = SLOW_RETRY_S
    else:
        seconds = min(RETRY_CAP_S, RETRY_BASE_S * 2 ** max(0, attempts - 1))
    rng = jitter or random
    return timedelta(seconds=seconds * rng.uniform(0.9, 1.1))


def due(session: Session, table: type[OutboxColumns], now: datetime, limit: int) -> list[int]:
    """The ids of up to `limit` pending rows due by `now`, the longest due first."""
    return list(
        session.scalars(
            select(table.id)
            .where(table.status == "pending", table.next_try_at <= now)
            .order_by(table.next_try_at, table.id)
            .limit(limit)
        )
    )


def claim(db: Database, table: type[Row], row_id: int, now: datetime, read: Callable[[Row], T]) -> T | None:
    """Take the row for this flush (compare-and-set on next_try_at); `read` of it, or None if taken."""
    with db.session() as session:
        result = cast(
            "CursorResult[Any]",
            session.execute(
                update(table)
                .where(table.id == row_id, table.status == "pending", table.next_try_at <= now)
                .values(next_try_at=now + timedelta(seconds=CLAIM_LEASE_S))
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount != 1:
            return None
        row = session.get(table, row_id)
        return None if row is None else read(row)


def record_failure(
    db: Database, table: type[OutboxColumns], row_id: int, error: str, now: datetime, *, give_up: bool = False
) -> None:
    """Count a failed try of a pending row: retried after `retry_delay`, or left `failed` with `give_up`."""
    with db.session() as session:
        row = session.get(table, row_id)
        if row is None or row.status != "pending":
            return
        row.attempts += 1
        row.last_error = error
        if give_up:
            row.status = FAILED
        else:
            row.next_try_at = now + retry_delay(row.attempts)


def pending_counts(session: Session, table: type[OutboxColumns]) -> tuple[int, int]:
    """(pending, stalled): stalled rows failed SLOW_AFTER_ATTEMPTS times or more (retried every 6 hours)."""
    pending = session.scalar(select(func.count()).select_from(table).where(table.status == "pending"))
    stalled = session.scalar(
        select(func.count())
        .select_from(table)
        .where(table.status == "pending", table.attempts >= SLOW_AFTER_ATTEMPTS)
    )
    return int(pending or 0), int(stalled or 0)


def clock_from(start: datetime | None) -> Callable[[], datetime]:
    """The wall clock in UTC; with `start`, shifted so that it reads `start` now and then moves on."""
    if start is None:
        return lambda: datetime.now(UTC)
    offset = start - datetime.now(UTC)
    return lambda: datetime.now(UTC) + offset
