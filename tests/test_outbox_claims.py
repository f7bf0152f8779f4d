"""Outbox claims read the clock when made: a flush longer than the claim lease sends nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from monitor.core.config import Config, EmailConfig
from monitor.pipeline.deliver.mailer import CLAIM_LEASE_S, FlushResult, enqueue, flush_outbox
from monitor.pipeline.deliver.message import build_event_email
from monitor.store.db import Database
from monitor.store.tables import OutboxMessage
from tests.fixtures.comparisons import event_comparison
from tests.fixtures.smtp import free_port


class SteppedClock:
    """A UTC clock that moves only when the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class HookedServer:
    """An SMTP handler that records each message and runs `hooks[n]` while the n-th message is in DATA."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []
        self.hooks: dict[int, Callable[[], object]] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = bytes(envelope.original_content)
        header = next(line for line in content.splitlines() if line.lower().startswith(b"message-id:"))
        self.message_ids.append(header.split(b":", 1)[1].strip().decode())
        hook = self.hooks.pop(len(self.message_ids), None)
        if hook is not None:
            await asyncio.get_running_loop().run_in_executor(None, hook)
        return "250 Message accepted for delivery"


@pytest.fixture
def server() -> Iterator[tuple[HookedServer, int]]:
    handler, port = HookedServer(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def queue_messages(db: Database, config: EmailConfig, count: int) -> None:
    for i in range(count):
        message = build_event_email(Config(email=config), event_comparison(), report_path=None)
        with db.session() as session:
            assert enqueue(session, config, message, dedupe_key=f"event:{i}") is not None


def test_a_second_sender_does_not_resend_a_message_claimed_late_in_a_long_flush(
    any_db: Database, server: tuple[HookedServer, int]
) -> None:
    handler, port = server
    config = EmailConfig.model_validate(
        {"smtp_host": "127.0.0.1", "smtp_port": port, "security": "none", "to": ["team@example.com"]}
    )
    queue_messages(any_db, config, 2)
    clock = SteppedClock(datetime.now(UTC) + timedelta(seconds=1))
    second: list[FlushResult] = []

    def slow_first_message() -> None:
        clock.now += timedelta(seconds=CLAIM_LEASE_S + 100)

    def second_sender_flushes() -> None:
        second.append(flush_outbox(any_db, config, clock=clock))

    handler.hooks = {1: slow_first_message, 2: second_sender_flushes}

    first = flush_outbox(any_db, config, clock=clock)

    assert first.sent == 2
    assert [r.sent for r in second] == [0], "the message the first sender holds is not due for the second"
    assert len(handler.message_ids) == 2 and len(set(handler.message_ids)) == 2
    with any_db.session() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [r.status for r in rows] == ["sent", "sent"]
    assert rows[1].sent_at is not None
    assert rows[1].sent_at.replace(tzinfo=UTC) == clock.now, "sent at the time the clock read then"
