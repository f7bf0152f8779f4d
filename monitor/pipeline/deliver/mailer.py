"""SMTP delivery through a durable outbox: enqueue with the event, send with bounded retries, never twice.

Delivery guarantee: a message is claimed (its `next_try_at` pushed out by a lease) before it is
sent, and marked `sent` in its own commit right after the server accepts it. A process that dies
after claiming loses nothing: the row becomes due again when the lease ends. The one remaining
window is between the server's "250 OK" and that commit (milliseconds): a crash exactly there
resends the message once, with the same Message-ID, so mail clients can collapse the duplicate.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from monitor.core.errors import ConfigError, MonitorError
from monitor.pipeline.deliver import outbox
from monitor.pipeline.deliver.message import build_event_email, clean_text, message_addresses, new_message
from monitor.pipeline.deliver.outbox import CLAIM_LEASE_S as CLAIM_LEASE_S
from monitor.pipeline.deliver.outbox import SLOW_AFTER_ATTEMPTS as SLOW_AFTER_ATTEMPTS
from monitor.pipeline.deliver.outbox import retry_delay as retry_delay
from monitor.store.tables import Event, OutboxMessage

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config, EmailConfig
    from monitor.pipeline.compare.migration import Migration
    from monitor.pipeline.compare.summary import EventComparison
    from monitor.store.db import Database

log = logging.getLogger(__name__)

ERROR_MAX = 1000


@dataclass
class FlushResult:
    """One flush: messages sent and failed now, still pending after it, and the errors seen.

    `stalled` counts pending messages that failed SLOW_AFTER_ATTEMPTS times or more (retried every
    6 hours, never dropped).
    """

    sent: int = 0
    failed: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)
    stalled: int = 0


def enqueue(
    session: Session,
    config: EmailConfig,
    message: EmailMessage,
    *,
    dedupe_key: str,
    event_id: int | None = None,
) -> OutboxMessage | None:
    """Store the message in the caller's transaction; None when `dedupe_key` is already queued."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None:
        return None
    sender, recipients = message_addresses(config)
    text = message.as_string()
    if not text.isascii():
        raise MonitorError("the e-mail is not 7-bit clean; build it with email.policy.default")
    row = OutboxMessage(
        dedupe_key=dedupe_key,
        event_id=event_id,
        subject=clean_text(str(message.get("Subject", "")), 500),
        sender=sender.addr_spec,
        recipients=[r.addr_spec for r in recipients],
        message=text,
        status="pending",
        attempts=0,
        next_try_at=datetime.now(UTC),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def enqueue_event_email(
    session: Session,
    config: Config,
    event_id: int,
    comparison: EventComparison,
    report_path: Path | None,
    *,
    migration: Migration | None = None,
) -> bool:
    """Queue the event's e-mail (key `event:<id>`); False when [email] is not configured or it is queued.

    A retirement event's mail is its migration report: `migration` when the caller has it, else computed."""
    if config.email is None:
        return False
    event = session.get(Event, event_id)
    kind = event.kind if event is not None else "new_model"
    if kind == "retirement":
        from monitor.pipeline.compare.migration import compare_migration
        from monitor.pipeline.deliver.migration_mail import build_migration_email

        migration = migration or compare_migration(session, config, event_id)
        message = build_migration_email(config, migration, report_path=report_path)
    else:
        message = build_event_email(config, comparison, report_path=report_path, event_kind=kind)
    return (
        enqueue(session, config.email, message, dedupe_key=f"event:{event_id}", event_id=event_id) is not None
    )


def _password(config: EmailConfig) -> str | None:
    if not config.username:
        return None
    if not config.password_env:
        raise ConfigError("[email] username is set but password_env is not: name the variable holding it")
    value = os.environ.get(config.password_env)
    if not value:
        raise MonitorError(f"SMTP password: environment variable {config.password_env} is not set")
    return value


def connect(config: EmailConfig, *, ssl_context: ssl.SSLContext | None = None) -> smtplib.SMTP:
    """An open, authenticated SMTP connection. Certificates are always verified: `ssl_context` exists
    for tests that trust their own self-signed certificate, never to switch verification off."""
    password = _password(config)
    context = ssl_context or ssl.create_default_context()
    smtp: smtplib.SMTP
    if config.security == "tls":
        smtp = smtplib.SMTP_SSL(config.smtp_host, config.smtp_port, timeout=config.timeout_s, context=context)
    else:
        smtp = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout_s)
    try:
        if config.security == "starttls":
            smtp.ehlo()
            smtp.starttls(context=context)
            smtp.ehlo()
        if config.username and password is not None:
            smtp.login(config.username, password)
    except BaseException:
        _close(smtp)
        raise
    return smtp


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def describe_error(exc: BaseException, config: EmailConfig) -> str:
    """A one-line reason for logs and `last_error`; the SMTP password can never appear in it."""
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = (
            exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        text = f"{type(exc).__name__}: {exc.smtp_code} {reply}"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "recipients refused: " + ", ".join(sorted(exc.recipients))
    elif isinstance(exc, ssl.SSLCertVerificationError):
        text = f"TLS certificate not trusted for {config.smtp_host}: {exc.verify_message or exc}"
    elif isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException):
        text = f"cannot reach {config.smtp_host}:{config.smtp_port}: {exc.strerror or exc}"
    else:
        text = f"{type(exc).__name__}: {exc}" if not isinstance(exc, MonitorError) else str(exc)
    secret = os.environ.get(config.password_env) if config.password_env else None
    if secret:
        text = text.replace(secret, "***")
    return clean_text(text, ERROR_MAX)


def _mark_sent(db: Database, message_id: int, note: str | None, now: datetime) -> None:
    with db.session() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status="sent", sent_at=now, last_error=note)
            .execution_options(synchronize_session=False)
        )


def flush_outbox(
    db: Database,
    config: EmailConfig,
    *,
    now: datetime | None = None,
    clock: Callable[[], datetime] | None = None,
    limit: int = 50,
    ssl_context: ssl.SSLContext | None = None,
) -> FlushResult:
    """Send up to `limit` due messages over one SMTP connection; each success is committed at once.

    Every claim, failure and sent time reads the clock when it happens, so a flush longer than
    CLAIM_LEASE_S still holds each message it sends for a full lease. `clock` defaults to the wall
    clock, shifted to read `now` at the start when `now` is given.
    """
    clock = clock or outbox.clock_from(now)
    result = FlushResult()
    with db.session() as session:
        due = outbox.due(session, OutboxMessage, clock(), limit)
    smtp: smtplib.SMTP | None = None
    try:
        for position, message_id in enumerate(due):
            row = outbox.claim(db, OutboxMessage, message_id, clock(), _itself)
            if row is None:
                continue
            try:
                if smtp is None:
                    smtp = connect(config, ssl_context=ssl_context)
            except (MonitorError, smtplib.SMTPException, OSError) as exc:
                error = describe_error(exc, config)
                # The server is unreachable for every message: record it on each one due now.
                for other in [message_id, *due[position + 1 :]]:
                    if (
                        other != message_id
                        and outbox.claim(db, OutboxMessage, other, clock(), _itself) is None
                    ):
                        continue
                    outbox.record_failure(db, OutboxMessage, other, error, clock())
                    result.failed += 1
                result.errors.append(error)
                break
            outcome = _send(smtp, row, config)
            if outcome.error is None:
                _mark_sent(db, message_id, outcome.note, clock())
                result.sent += 1
            else:
                outbox.record_failure(db, OutboxMessage, message_id, outcome.error, clock())
                result.failed += 1
                result.errors.append(f"outbox #{message_id}: {outcome.error}")
                if outcome.disconnected:
                    _close(smtp)
                    smtp = None
    finally:
        if smtp is not None:
            _close(smtp)
    with db.session() as session:
        result.pending, result.stalled = outbox.pending_counts(session, OutboxMessage)
    if result.sent or result.failed:
        log.info("outbox: %d sent, %d failed, %d pending", result.sent, result.failed, result.pending)
    return result


def _itself(row: OutboxMessage) -> OutboxMessage:
    return row


@dataclass
class _Outcome:
    error: str | None = None
    note: str | None = None
    disconnected: bool = False


def _send(smtp: smtplib.SMTP, row: OutboxMessage, config: EmailConfig) -> _Outcome:
    try:
        refused = smtp.sendmail(row.sender, list(row.recipients), row.message)
    except smtplib.SMTPServerDisconnected as exc:
        return _Outcome(error=describe_error(exc, config), disconnected=True)
    except (smtplib.SMTPException, OSError) as exc:
        lost = not isinstance(exc, smtplib.SMTPException)  # a socket error or timeout ends the session
        return _Outcome(error=describe_error(exc, config), disconnected=lost)
    if refused:
        # Some recipients accepted it: sending again would duplicate their copy, so it counts as sent.
        return _Outcome(note=clean_text("some recipients refused: " + ", ".join(sorted(refused)), ERROR_MAX))
    return _Outcome()


def send_test(config: EmailConfig, *, ssl_context: ssl.SSLContext | None = None) -> None:
    """Send a short test message now (not through the outbox); MonitorError with the reason on failure."""
    sender, recipients = message_addresses(config)
    message = new_message(config, "test message")
    message.set_content(
        "This is a test message from model-monitor.\n\n"
        f"It went through {config.smtp_host}:{config.smtp_port} (security: {config.security}).\n"
        "If you can read it, e-mail reports will reach you.\n"
    )
    try:
        smtp = connect(config, ssl_context=ssl_context)
    except (smtplib.SMTPException, OSError) as exc:
        raise MonitorError(f"test e-mail failed: {describe_error(exc, config)}") from None
    try:
        smtp.sendmail(sender.addr_spec, [r.addr_spec for r in recipients], message.as_string())
    except (smtplib.SMTPException, OSError) as exc:
        raise MonitorError(f"test e-mail failed: {describe_error(exc, config)}") from None
    finally:
        _close(smtp)
