"""Delivering notifications to real HTTP receivers on loopback: Apprise targets and the signed webhook."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.core.config import Config
from monitor.pipeline.complete import complete_events
from monitor.pipeline.deliver.notify_outbox import flush_notifications
from monitor.store.db import Database
from tests.factories import add_event, add_run, add_suite
from tests.notify_helpers import (
    chat,
    notification_rows,
    removed_model_notice,
    set_webhook_env,
    setup,
    signature,
    webhook,
)
from tests.notify_receivers import Receiver, receiving

KEY = "whsec-test-signing-key-5f2a9c"
TOKEN = "T0KEN-b7c1d9e3f5a7"
NOW = datetime.now(UTC) + timedelta(days=1)  # the flushes' clock: after every row this session queues


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def regression_event(db: Database) -> int:
    """A finished new-model event where sim:new is significantly worse than sim:base."""
    with db.session() as s:
        suite = add_suite(s, size=20)
        event = add_event(s, "new_model", "sim:new")
        add_run(s, suite, "sim:new", [True] * 6 + [False] * 14, event=event, trigger="new_model")
        add_run(s, suite, "sim:base", [True] * 18 + [False] * 2, event=event, trigger="baseline")
        return event.id


def queued(tmp_path: Path, extra: str, url: str | None = None) -> tuple[Config, Database, int]:
    config, db = setup(tmp_path, extra, url)
    event_id = regression_event(db)
    complete_events(db, config)
    return config, db, event_id


def test_apprise_json_target_receives_the_title_and_the_short_text(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_URL", f"json://127.0.0.1:{receiver.port}/chat/{TOKEN}")
    config, db, _ = queued(tmp_path, chat())

    result = flush_notifications(db, config, now=NOW)

    assert (result.sent, result.failed, result.pending) == (1, 0, 0)
    [request] = receiver.received
    assert request.path == f"/chat/{TOKEN}"
    message = request.json()
    assert message["title"].startswith("Regression: sim:new: worse on 1 of 1 suite")
    assert message["message"].splitlines()[1].startswith("- qa: worse (")
    assert message["type"] == "warning"
    [row] = notification_rows(db)
    assert row.status == "sent" and row.sent_at is not None
    db.dispose()


def test_apprise_slack_target_posts_to_a_slack_style_webhook_receiver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apprise.plugins.slack import NotifySlack

    with receiving(reply=b"ok") as slack:
        # Slack's own endpoint is the only thing replaced: the real plugin builds and posts the message.
        monkeypatch.setattr(NotifySlack, "webhook_url", f"{slack.url}/services")
        monkeypatch.setenv("CHAT_URL", "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7")
        config, db, _ = queued(tmp_path, chat())

        result = flush_notifications(db, config, now=NOW)

        assert result.sent == 1, result.errors
        [request] = slack.received
    assert request.path == "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"
    text = json.dumps(request.json())
    assert "sim:new is worse than the baseline" in text and "qa: worse" in text
    db.dispose()


def test_signed_webhook_carries_the_event_json_and_a_signature_the_receiver_verifies(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_webhook_env(monkeypatch, f"{receiver.url}/hooks/{TOKEN}", KEY)
    config, db, event_id = queued(tmp_path, webhook())

    assert flush_notifications(db, config, now=NOW).sent == 1

    [request] = receiver.received
    assert hmac.compare_digest(request.headers["x-model-monitor-signature"], signature(KEY, request.body))
    assert request.headers["x-model-monitor-event"] == "regression"
    assert request.headers["content-type"].startswith("application/json")
    data = request.json()
    assert data["event"]["id"] == event_id and data["event"]["model"] == "sim:new"
    assert data["comparison"]["worse"] == 1
    assert data["comparison"]["suites"][0]["paired"]["verdict"] == "worse"
    assert len(request.headers["x-model-monitor-delivery"]) == 36
    db.dispose()


def test_the_delivery_id_is_the_same_on_every_try_of_one_row(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_webhook_env(monkeypatch, f"{receiver.url}/hooks", KEY)
    receiver.status = 503
    config, db, _ = queued(tmp_path, webhook())

    flush_notifications(db, config, now=NOW)
    receiver.status = 200
    flush_notifications(db, config, now=NOW + timedelta(hours=1))

    first, second = receiver.received
    assert first.headers["x-model-monitor-delivery"] == second.headers["x-model-monitor-delivery"]
    db.dispose()


def test_a_receiver_that_is_down_then_up_gets_the_message_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, any_db_url: str
) -> None:
    receiver = Receiver()  # not started: its port refuses connections
    set_webhook_env(monkeypatch, f"{receiver.url}/hooks/{TOKEN}", KEY)
    config, db, _ = queued(tmp_path, webhook(), any_db_url)

    down = flush_notifications(db, config, now=NOW)

    assert (down.sent, down.failed, down.pending) == (0, 1, 1)
    [row] = notification_rows(db)
    assert row.status == "pending" and row.attempts == 1
    assert row.next_try_at > NOW + timedelta(seconds=50)
    assert row.last_error is not None and "Connection refused" in row.last_error
    assert flush_notifications(db, config, now=NOW + timedelta(seconds=1)).sent == 0, "not due yet"

    receiver.start()
    try:
        later = NOW + timedelta(minutes=5)
        assert flush_notifications(db, config, now=later).sent == 1
        assert flush_notifications(db, config, now=later + timedelta(days=1)).sent == 0
        assert len(receiver.received) == 1
    finally:
        receiver.stop()
    [row] = notification_rows(db)
    assert row.status == "sent"
    db.dispose()


@pytest.mark.parametrize("status", [400, 404, 410])
def test_a_webhook_4xx_is_a_permanent_failure_kept_visible(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    set_webhook_env(monkeypatch, f"{receiver.url}/hooks", KEY)
    receiver.status, receiver.reply = status, b"no such hook"
    config, db, _ = queued(tmp_path, webhook())

    result = flush_notifications(db, config, now=NOW)
    again = flush_notifications(db, config, now=NOW + timedelta(days=2))

    assert (result.refused, result.pending, again.sent + again.failed + again.refused) == (1, 0, 0)
    [row] = notification_rows(db)
    reason = {400: "Bad Request", 404: "Not Found", 410: "Gone"}[status]
    assert row.status == "failed"
    assert row.last_error == f"the webhook answered HTTP {status} {reason}: no such hook"
    assert len(receiver.received) == 1
    db.dispose()


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_a_webhook_408_429_or_5xx_is_retried(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    set_webhook_env(monkeypatch, f"{receiver.url}/hooks", KEY)
    receiver.status = status
    config, db, _ = queued(tmp_path, webhook())

    result = flush_notifications(db, config, now=NOW)

    assert (result.failed, result.pending) == (1, 1)
    [row] = notification_rows(db)
    assert row.status == "pending" and f"HTTP {status}" in (row.last_error or "")
    db.dispose()


def test_a_missing_url_variable_is_a_clear_error_kept_on_the_row_and_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHAT_URL", raising=False)
    config, db, _ = queued(tmp_path, chat())

    result = flush_notifications(db, config, now=NOW)

    [row] = notification_rows(db)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "[[notify]] chat: environment variable CHAT_URL (its URL) is not set"
    assert result.errors == [f"notification #{row.id} to chat: {row.last_error}"]
    db.dispose()


def test_a_failing_target_gets_one_request_per_flush_not_one_per_row(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.status = 503
    set_webhook_env(monkeypatch, f"{receiver.url}/hooks", KEY)
    config, db = setup(tmp_path, webhook())
    for model in ("sim:a", "sim:b", "sim:c"):
        removed_model_notice(db, config, model)

    result = flush_notifications(db, config, now=NOW)

    assert (result.failed, result.pending) == (3, 3)
    assert len(receiver.received) == 1
    errors = {row.last_error for row in notification_rows(db)}
    assert errors == {"the webhook answered HTTP 503 Service Unavailable: ok"}
    db.dispose()


def test_the_apprise_error_says_why_without_the_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = Receiver()
    monkeypatch.setenv("CHAT_URL", f"json://127.0.0.1:{closed.port}/chat/{TOKEN}")
    config, db, _ = queued(tmp_path, chat())

    flush_notifications(db, config, now=NOW)

    [row] = notification_rows(db)
    error = row.last_error or ""
    assert error.startswith("Apprise could not deliver it: ")
    assert "Connection refused" in error
    assert TOKEN not in error and str(closed.port) not in error
    db.dispose()


def database_dump(db: Database) -> str:
    """Every row of every table as text."""
    from sqlalchemy import inspect, text

    names = inspect(db.engine).get_table_names()
    with db.engine.connect() as conn:
        return "\n".join(str(row) for name in names for row in conn.execute(text(f'SELECT * FROM "{name}"')))


def test_the_url_and_the_signing_key_never_reach_the_database_the_logs_or_the_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hook, chat_box = Receiver(), Receiver()
    set_webhook_env(monkeypatch, f"{hook.url}/hooks/{TOKEN}", KEY)
    monkeypatch.setenv("CHAT_URL", f"json://127.0.0.1:{chat_box.port}/chat/{TOKEN}")
    config, db, _ = queued(tmp_path, webhook() + chat())

    failed = flush_notifications(db, config, now=NOW)
    hook.start()
    chat_box.start()
    try:
        sent = flush_notifications(db, config, now=NOW + timedelta(hours=1))
    finally:
        hook.stop()
        chat_box.stop()

    assert (failed.failed, sent.sent) == (2, 2)
    seen = "\n".join([database_dump(db), caplog.text, *failed.errors, *sent.errors])
    for secret in (TOKEN, KEY, f"/hooks/{TOKEN}"):
        assert secret not in seen
    assert "notify" in caplog.text or "notifications" in caplog.text
    db.dispose()
