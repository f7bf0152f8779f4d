"""Deliver the notifications outbox: claim each due row, send it, retry with the e-mail's backoff.

The same promise as the e-mail outbox (mailer.py): a row is claimed (its `next_try_at` pushed out
by a lease) before it is sent and marked `sent` in its own commit right after the receiver
accepted it, so a crashed flush loses nothing and a row is sent twice only if the process dies
in the milliseconds between the receiver's answer and that commit (receivers can drop the
duplicate by its delivery id). A receiver that refuses a message for good (a webhook's 4xx other
than 408/429) leaves the row `failed`, kept with its error for `notify list` and `status`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from monitor.pipeline.deliver import outbox
from monitor.pipeline.deliver.notify_send import Delivery, Outcome, send
from monitor.pipeline.deliver.outbox import FAILED
from monitor.store.tables import Notification

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config
    from monitor.core.config_outputs import NotifyConfig
    from monitor.store.db import Database

log = logging.getLogger(__name__)

SHOWN = 50


@dataclass
class NotifyFlush:
    """One flush: sent, failed (retried later) and refused for good now; pending and stalled after it."""

    sent: int = 0
    failed: int = 0
    refused: int = 0
    pending: int = 0
    stalled: int = 0
    errors: list[str] = field(default_factory=list)


def delivery_id(row: Notification) -> str:
    """A stable id per row (the same on every retry), unique across databases: the receiver's dedupe key."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"model-monitor:{row.dedupe_key}@{row.created_at.isoformat()}"))


def _what_to_send(row: Notification) -> tuple[str, Delivery]:
    """A claimed row's target name and what to send it."""
    return row.target, Delivery(row.kind, row.title, row.body, dict(row.payload or {}), delivery_id(row))


def _record(db: Database, row_id: int, outcome: Outcome, now: datetime) -> None:
    """Sent, failed for good, or failed with a later retry time."""
    if outcome.error is not None:
        outbox.record_failure(db, Notification, row_id, outcome.error, now, give_up=outcome.permanent)
        return
    with db.session() as session:
        row = session.get(Notification, row_id)
        if row is not None and row.status == "pending":
            row.status, row.sent_at = "sent", now


def flush_notifications(
    db: Database,
    config: Config,
    *,
    now: datetime | None = None,
    clock: Callable[[], datetime] | None = None,
    limit: int = 50,
) -> NotifyFlush:
    """Send up to `limit` due notifications; each outcome is committed at once.

    After a target fails (other than for good) its other rows due now wait for their next try
    with the same error, so a receiver that is down costs one timeout per flush, not one per row.
    """
    clock = clock or outbox.clock_from(now)
    targets: dict[str, NotifyConfig] = dict(config.notify_targets())
    result = NotifyFlush()
    with db.session() as session:
        due = outbox.due(session, Notification, clock(), limit)
    down: dict[str, str] = {}
    for row_id in due:
        claimed = outbox.claim(db, Notification, row_id, clock(), _what_to_send)
        if claimed is None:
            continue
        name, delivery = claimed
        target = targets.get(name)
        if target is None:
            outcome = Outcome(error=f"[[notify]] {name} is not in the config any more; kept until it is back")
        elif name in down:
            outcome = Outcome(error=down[name])
        else:
            outcome = send(name, target, delivery)
        _record(db, row_id, outcome, clock())
        if outcome.error is None:
            result.sent += 1
            continue
        if outcome.permanent:
            result.refused += 1
        else:
            result.failed += 1
            down.setdefault(name, outcome.error)
        result.errors.append(f"notification #{row_id} to {name}: {outcome.error}")
    with db.session() as session:
        result.pending, result.stalled = pending_counts(session)
    if result.sent or result.failed or result.refused:
        log.info(
            "notifications: %d sent, %d failed, %d refused, %d pending",
            result.sent,
            result.failed,
            result.refused,
            result.pending,
        )
    return result


def pending_counts(session: Session) -> tuple[int, int]:
    """(pending, stalled) notifications: stalled ones failed SLOW_AFTER_ATTEMPTS times or more."""
    return outbox.pending_counts(session, Notification)


def outstanding(session: Session, limit: int = SHOWN) -> list[dict[str, Any]]:
    """The newest pending and failed rows, for `notify list` (target names and errors, never URLs)."""
    rows = session.scalars(
        select(Notification)
        .where(Notification.status.in_(("pending", FAILED)))
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return [
        {
            "id": row.id,
            "target": row.target,
            "kind": row.kind,
            "event_id": row.event_id,
            "title": row.title,
            "status": row.status,
            "attempts": row.attempts,
            "next_try_at": row.next_try_at if row.status == "pending" else None,
            "last_error": row.last_error,
        }
        for row in rows
    ]


def failed_count(session: Session) -> int:
    """Rows a receiver refused for good (kept to be seen)."""
    return int(
        session.scalar(select(func.count()).select_from(Notification).where(Notification.status == FAILED))
        or 0
    )
