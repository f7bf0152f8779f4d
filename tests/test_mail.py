"""Outbox delivery through a real aiosmtpd server on loopback: intact, retried, exactly once, never lost."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import cast

import pytest
from sqlalchemy import func, select

from monitor.core.config import Config, EmailConfig
from monitor.core.errors import MonitorError
from monitor.pipeline.deliver.mailer import (
    CLAIM_LEASE_S,
    SLOW_AFTER_ATTEMPTS,
    enqueue,
    enqueue_event_email,
    flush_outbox,
    retry_delay,
    send_test,
)
from monitor.pipeline.deliver.message import build_event_email
from monitor.store.tables import OutboxMessage
from tests.factories import add_event
from tests.fixtures.comparisons import event_comparison, flip
from tests.fixtures.smtp import SmtpServer, free_port


def email_config(server: SmtpServer | None = None, **overrides: object) -> EmailConfig:
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port if server else free_port(),
        "security": "none",
        "from": "Model Monitor <monitor@example.com>",
        "to": ["team@example.com", "lead@example.org"],
        "timeout_s": 30,
    }
    values.update(overrides)
    return EmailConfig.model_validate(values)


def queue_event_email(db, config: EmailConfig, key: str = "event:1") -> int:
    message = build_event_email(
        Config(email=config), event_comparison(flipped=[flip("s1", "<b>4</b>")]), report_path=None
    )
    with db.session() as session:
        row = enqueue(session, config, message, dedupe_key=key)
        assert row is not None
        session.flush()
        return row.id


def outbox_row(db, row_id: int) -> OutboxMessage:
    with db.session() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        return row


def test_flush_delivers_the_event_email_intact(db, smtp_server):
    config = email_config(smtp_server)
    row_id = queue_event_email(db, config)

    result = flush_outbox(db, config)

    assert (result.sent, result.failed, result.pending) == (1, 0, 0)
    [mail] = smtp_server.messages
    assert mail.mail_from == "monitor@example.com"
    assert mail.rcpt_tos == ["team@example.com", "lead@example.org"]
    message = mail.parsed()
    assert message["Subject"] == "[model-monitor] sim:gpt-sim-next: better on 2 of 3 suites"
    assert str(message["From"]) == "Model Monitor <monitor@example.com>"
    assert [a.addr_spec for a in message["To"].addresses] == ["team@example.com", "lead@example.org"]
    assert message["Date"].datetime is not None and message["Message-ID"]
    plain = cast(EmailMessage, message.get_body(preferencelist=("plain",))).get_content()
    html = cast(EmailMessage, message.get_body(preferencelist=("html",))).get_content()
    assert "better than the baseline on 2 of 3 suites" in plain
    assert "&lt;b&gt;4&lt;/b&gt;" in html
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    assert "Mean grade per suite" in html and "95% CI" in html
    row = outbox_row(db, row_id)
    assert row.status == "sent" and row.sent_at is not None and row.last_error is None


def test_a_message_stays_pending_while_smtp_is_down_then_is_delivered_exactly_once(any_db, smtp_server):
    db = any_db
    config = email_config(smtp_server)
    row_id = queue_event_email(db, config)
    smtp_server.stop()
    before = datetime.now(UTC)

    down = flush_outbox(db, config)

    assert (down.sent, down.failed, down.pending) == (0, 1, 1)
    row = outbox_row(db, row_id)
    assert row.status == "pending" and row.attempts == 1
    assert row.last_error and "cannot reach 127.0.0.1" in row.last_error
    assert row.next_try_at > before + timedelta(seconds=30)
    assert down.errors == [row.last_error]

    smtp_server.start()
    too_early = flush_outbox(db, config, now=row.next_try_at - timedelta(seconds=1))
    assert too_early.sent == 0 and smtp_server.messages == []

    later = row.next_try_at + timedelta(seconds=1)
    assert flush_outbox(db, config, now=later).sent == 1
    again = flush_outbox(db, config, now=later + timedelta(days=1))
    assert (again.sent, again.pending) == (0, 0)
    assert len(smtp_server.messages) == 1
    assert outbox_row(db, row_id).status == "sent"


def test_a_sent_message_is_never_sent_again(db, smtp_server):
    config = email_config(smtp_server)
    queue_event_email(db, config)

    flush_outbox(db, config)
    flush_outbox(db, config, now=datetime.now(UTC) + timedelta(days=30))

    assert len(smtp_server.messages) == 1


def test_a_claim_left_by_a_crashed_flush_expires_and_the_message_is_delivered(any_db, smtp_server):
    db = any_db
    config = email_config(smtp_server)
    row_id = queue_event_email(db, config)
    now = datetime.now(UTC)
    with db.session() as session:
        cast(OutboxMessage, session.get(OutboxMessage, row_id)).next_try_at = now + timedelta(
            seconds=CLAIM_LEASE_S
        )

    assert flush_outbox(db, config, now=now).sent == 0
    assert flush_outbox(db, config, now=now + timedelta(seconds=CLAIM_LEASE_S + 1)).sent == 1
    assert len(smtp_server.messages) == 1


def test_two_concurrent_flushes_deliver_each_message_exactly_once(any_db, smtp_server):
    config = email_config(smtp_server)
    for i in range(12):
        queue_event_email(any_db, config, key=f"event:{i}")

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: flush_outbox(any_db, config), range(2)))

    assert sum(r.sent for r in results) == 12
    message_ids = [m.parsed()["Message-ID"] for m in smtp_server.messages]
    assert len(message_ids) == 12 and len(set(message_ids)) == 12


def test_enqueue_twice_with_the_same_key_keeps_one_row(any_db):
    config = email_config()
    message = build_event_email(Config(email=config), event_comparison(), report_path=None)
    with any_db.session() as session:
        first = enqueue(session, config, message, dedupe_key="event:42")
    with any_db.session() as session:
        second = enqueue(session, config, message, dedupe_key="event:42")
        count = session.scalar(select(func.count()).select_from(OutboxMessage))

    assert first is not None and second is None
    assert count == 1


def test_event_email_is_queued_once_per_event_and_not_without_email_config(any_db):
    config = Config(email=email_config())
    with any_db.session() as session:
        event = add_event(session, "new_model", "sim:gpt-sim-next")
        assert enqueue_event_email(session, Config(), event.id, event_comparison(), None) is False
        assert enqueue_event_email(session, config, event.id, event_comparison(), None) is True
        assert enqueue_event_email(session, config, event.id, event_comparison(), None) is False
        rows = list(session.scalars(select(OutboxMessage)))

    assert len(rows) == 1
    assert rows[0].event_id == event.id and rows[0].dedupe_key == f"event:{event.id}"
    assert rows[0].recipients == ["team@example.com", "lead@example.org"]


def test_retry_delay_doubles_up_to_an_hour_then_slows_to_six_hours_and_never_gives_up():
    rng = random.Random(7)
    delays = [retry_delay(n, jitter=rng).total_seconds() for n in (1, 2, 3, 10, SLOW_AFTER_ATTEMPTS, 500)]

    assert delays[0] == pytest.approx(60, rel=0.11)
    assert delays[1] == pytest.approx(120, rel=0.11)
    assert delays[2] == pytest.approx(240, rel=0.11)
    assert delays[3] == pytest.approx(3600, rel=0.11)
    assert delays[4] == pytest.approx(6 * 3600, rel=0.11)
    assert delays[5] == pytest.approx(6 * 3600, rel=0.11)


def test_a_message_that_failed_many_times_stays_pending_and_is_reported_as_stalled(db):
    config = email_config()
    row_id = queue_event_email(db, config)
    with db.session() as session:
        cast(OutboxMessage, session.get(OutboxMessage, row_id)).attempts = SLOW_AFTER_ATTEMPTS + 5

    result = flush_outbox(db, config)

    row = outbox_row(db, row_id)
    assert row.status == "pending" and row.attempts == SLOW_AFTER_ATTEMPTS + 6
    assert (result.failed, result.pending, result.stalled) == (1, 1, 1)
    assert row.next_try_at > datetime.now(UTC) + timedelta(hours=5)


def test_starttls_verifies_the_server_certificate(db, smtp_starttls_server, self_signed_cert):
    config = email_config(smtp_starttls_server, security="starttls", smtp_host="localhost")
    row_id = queue_event_email(db, config)

    untrusted = flush_outbox(db, config)

    assert untrusted.sent == 0 and smtp_starttls_server.messages == []
    assert "certificate" in (outbox_row(db, row_id).last_error or "").lower()
    later = datetime.now(UTC) + timedelta(hours=1)
    trusted = flush_outbox(db, config, now=later, ssl_context=self_signed_cert.client_context())
    assert trusted.sent == 1 and len(smtp_starttls_server.messages) == 1


def auth_config(server: SmtpServer) -> EmailConfig:
    return email_config(
        server,
        security="starttls",
        smtp_host="localhost",
        username="mailer",
        password_env="TEST_SMTP_PASSWORD",
    )


def test_login_uses_the_password_from_the_named_environment_variable(db, monkeypatch, self_signed_cert):
    server = SmtpServer(tls_context=self_signed_cert.server_context(), users={"mailer": "correct horse"})
    server.start()
    try:
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "correct horse")
        config = auth_config(server)
        queue_event_email(db, config)

        assert flush_outbox(db, config, ssl_context=self_signed_cert.client_context()).sent == 1
        assert [m.login for m in server.messages] == ["mailer"]
    finally:
        server.stop()


def test_a_rejected_password_never_appears_in_the_recorded_error(db, monkeypatch, self_signed_cert):
    server = SmtpServer(tls_context=self_signed_cert.server_context(), users={"mailer": "correct horse"})
    server.start()
    try:
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "hunter2-wrong-secret")
        config = auth_config(server)
        row_id = queue_event_email(db, config)

        result = flush_outbox(db, config, ssl_context=self_signed_cert.client_context())

        row = outbox_row(db, row_id)
        assert result.failed == 1 and row.status == "pending"
        assert row.last_error and "535" in row.last_error
        assert "hunter2" not in row.last_error and all("hunter2" not in e for e in result.errors)
    finally:
        server.stop()


def test_a_missing_password_variable_is_named_and_nothing_is_sent(db, monkeypatch):
    monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)
    config = email_config(username="mailer", password_env="TEST_SMTP_PASSWORD")

    with pytest.raises(MonitorError, match="environment variable TEST_SMTP_PASSWORD is not set"):
        send_test(config)


def test_send_test_delivers_a_short_message_now(smtp_server):
    send_test(email_config(smtp_server))

    [mail] = smtp_server.messages
    message = mail.parsed()
    assert message["Subject"] == "[model-monitor] test message"
    assert "test message from model-monitor" in cast(EmailMessage, message.get_body()).get_content()


def test_send_test_fails_with_the_reason_when_smtp_is_unreachable():
    with pytest.raises(MonitorError, match=r"test e-mail failed: cannot reach 127\.0\.0\.1:\d+"):
        send_test(email_config())
