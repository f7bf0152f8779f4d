"""Service logs: level-tagged lines or JSON lines on stderr, and configured secrets never appear."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.core.logs import REDACTED, configured_secrets, setup_logging
from tests.factories import make_config

SECRET = "sk-test-0123456789abcdefghij"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_lines_carry_time_level_and_logger(restore_logging: None) -> None:
    stream = io.StringIO()
    setup_logging(stream=stream)
    logging.getLogger("monitor.daemon").warning("poll %s failed", "sim")
    line = stream.getvalue().strip()
    assert "WARNING" in line and "monitor.daemon: poll sim failed" in line


def test_json_lines_are_one_object_per_record_with_extras_and_traceback(restore_logging: None) -> None:
    stream = io.StringIO()
    setup_logging(json_lines=True, stream=stream)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("monitor.daemon").exception("job %s failed", "work", extra={"job": "work"})
    record = json.loads(stream.getvalue().strip())
    assert record["level"] == "ERROR" and record["message"] == "job work failed"
    assert record["job"] == "work" and "RuntimeError: boom" in record["exception"]


@pytest.mark.parametrize("json_lines", [False, True])
def test_a_configured_key_is_redacted_from_messages_arguments_and_tracebacks(
    restore_logging: None, json_lines: bool
) -> None:
    stream = io.StringIO()
    setup_logging(json_lines=json_lines, stream=stream, secrets=[SECRET])
    log = logging.getLogger("monitor.test")
    log.info("header Authorization: Bearer %s", SECRET)
    log.warning(f"inline {SECRET}")
    try:
        raise ValueError(f"provider said: bad key {SECRET}")
    except ValueError:
        log.exception("call failed")
    output = stream.getvalue()
    assert SECRET not in output
    assert output.count(REDACTED) >= 3


def test_secrets_come_from_the_environment_variables_the_config_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(
        tmp_path,
        extra='[providers.other]\ntype = "openai"\napi_key_env = "OTHER_TEST_KEY"\n'
        '[email]\nsmtp_host = "127.0.0.1"\npassword_env = "SMTP_TEST_PASSWORD"\nto = ["a@example.com"]\n',
    )
    monkeypatch.setenv("OTHER_TEST_KEY", SECRET)
    monkeypatch.setenv("SMTP_TEST_PASSWORD", "hunter2-hunter2")
    assert sorted(configured_secrets(config)) == sorted([SECRET, "hunter2-hunter2"])


def test_notify_urls_and_signing_keys_are_secrets_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(
        tmp_path,
        extra='[[notify]]\nname = "hook"\ntype = "webhook"\nurl_env = "HOOK_TEST_URL"\n'
        'secret_env = "HOOK_TEST_KEY"\n'
        '[[notify]]\nname = "chat"\ntype = "apprise"\nurl_env = "CHAT_TEST_URL"\n',
    )
    hook, key, chat = (
        "https://hooks.example.com/T000/B000/xyz",
        "signing-key-123456",
        "slack://T000/B000/abc123",
    )
    monkeypatch.setenv("HOOK_TEST_URL", hook)
    monkeypatch.setenv("HOOK_TEST_KEY", key)
    monkeypatch.setenv("CHAT_TEST_URL", chat)
    assert {hook, key, chat} <= set(configured_secrets(config))
