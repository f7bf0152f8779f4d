"""`model-monitor email --test | --flush` against a real loopback SMTP server."""

from __future__ import annotations

import json

from click.testing import CliRunner

from monitor.cli import main
from monitor.core.config import load_config
from monitor.pipeline.deliver.mailer import enqueue
from monitor.pipeline.deliver.message import build_event_email
from monitor.store.db import open_database
from tests.fixtures.comparisons import event_comparison
from tests.fixtures.smtp import free_port


def config_text(port: int, *, to: str = '["team@example.com"]') -> str:
    return f"""
        [database]
        url = "sqlite:///monitor.db"

        [email]
        smtp_host = "127.0.0.1"
        smtp_port = {port}
        security = "none"
        from = "Model Monitor <monitor@example.com>"
        to = {to}
        timeout_s = 30
    """


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_email_test_sends_a_message_to_the_configured_recipients(write_config, smtp_server):
    path = write_config(config_text(smtp_server.port))

    result = invoke("--config", str(path), "email", "--test")

    assert result.exit_code == 0, result.output
    assert "Sent a test message to team@example.com" in result.output
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["team@example.com"]
    assert mail.parsed()["Subject"] == "[model-monitor] test message"


def test_email_test_exits_1_with_the_reason_when_smtp_is_unreachable(write_config):
    path = write_config(config_text(free_port()))

    result = invoke("--config", str(path), "email", "--test")

    assert result.exit_code == 1
    assert "test e-mail failed: cannot reach 127.0.0.1" in result.output


def test_email_without_an_email_section_exits_2(write_config):
    path = write_config('[database]\nurl = "sqlite:///monitor.db"\n')

    result = invoke("--config", str(path), "email", "--test")

    assert result.exit_code == 2
    assert "no [email] section" in result.output


def test_email_with_a_bad_recipient_exits_2_and_sends_nothing(write_config, smtp_server):
    path = write_config(config_text(smtp_server.port, to='["team@example.com, evil@example.com"]'))

    result = invoke("--config", str(path), "email", "--test")

    assert result.exit_code == 2
    assert "[email] to" in result.output
    assert smtp_server.messages == []


def test_email_needs_exactly_one_of_test_or_flush(write_config, smtp_server):
    path = write_config(config_text(smtp_server.port))

    assert invoke("--config", str(path), "email").exit_code == 2
    assert invoke("--config", str(path), "email", "--test", "--flush").exit_code == 2


def test_email_flush_delivers_pending_mail_and_prints_counts_as_json(write_config, smtp_server):
    path = write_config(config_text(smtp_server.port))
    config = load_config(path)
    assert config.email is not None
    db = open_database(config.database_url)
    with db.session() as session:
        for key in ("event:1", "event:2"):
            message = build_event_email(config, event_comparison(), report_path=None)
            enqueue(session, config.email, message, dedupe_key=key)
    db.dispose()

    result = invoke("--config", str(path), "email", "--flush", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"sent": 2, "failed": 0, "pending": 0, "stalled": 0, "errors": []}
    assert len(smtp_server.messages) == 2
    again = invoke("--config", str(path), "email", "--flush")
    assert again.exit_code == 0
    assert "sent 0, failed 0, pending 0" in again.output
    assert len(smtp_server.messages) == 2


def test_email_flush_exits_1_and_keeps_the_mail_when_smtp_is_down(write_config, smtp_server):
    path = write_config(config_text(smtp_server.port))
    config = load_config(path)
    assert config.email is not None
    db = open_database(config.database_url)
    with db.session() as session:
        enqueue(
            session,
            config.email,
            build_event_email(config, event_comparison(), report_path=None),
            dedupe_key="k",
        )
    db.dispose()
    smtp_server.stop()

    result = invoke("--config", str(path), "email", "--flush")

    assert result.exit_code == 1
    assert "sent 0, failed 1, pending 1" in result.output
    assert "cannot reach 127.0.0.1" in result.output
