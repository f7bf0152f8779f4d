"""`check`, `notify list | test | flush`, `status` and the outbox job for [[notify]] targets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import main
from monitor.core.config import Config
from monitor.service.jobs import Runtime, _outbox
from monitor.store.tables import Notification
from tests.notify_helpers import chat, removed_model_notice, set_webhook_env, setup, signature, webhook
from tests.notify_receivers import Receiver, receiving

KEY = "whsec-cli-signing-key-77e1"
TOKEN = "cli-T0KEN-4f8e2a1b"
HOOK = webhook()
CHAT = chat(options='on = ["regression"]\nonly_significant = true\n')


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def invoke(config: Config, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config.path), *args])


def run_check(tmp_path: Path, targets: str) -> Result:
    """`check --json` on a config with these targets, its database created first."""
    config, db = setup(tmp_path, targets)
    try:
        return invoke(config, "check", "--json")
    finally:
        db.dispose()


def test_check_warns_when_a_target_variable_is_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOOK_URL", raising=False)
    monkeypatch.delenv("HOOK_KEY", raising=False)

    result = run_check(tmp_path, HOOK)

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert "[[notify]] hook: environment variable HOOK_URL is not set" in report["warnings"]
    assert "[[notify]] hook: environment variable HOOK_KEY is not set" in report["warnings"]
    assert report["problems"] == []


def test_check_rejects_an_apprise_url_apprise_cannot_read_without_printing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_URL", f"nosuchservice://{TOKEN}/x")

    result = run_check(tmp_path, CHAT)

    assert result.exit_code == 2
    [problem] = json.loads(result.output)["problems"]
    assert "[[notify]] chat: Apprise cannot read the URL in CHAT_URL" in problem
    assert TOKEN not in result.output


def test_check_accepts_a_readable_apprise_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_URL", f"ntfy://{TOKEN}")

    result = run_check(tmp_path, CHAT)

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["problems"] == []


def test_check_rejects_a_webhook_url_that_is_not_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_webhook_env(monkeypatch, f"ftp://example.com/{TOKEN}", KEY)

    result = run_check(tmp_path, HOOK)

    assert result.exit_code == 2
    assert "[[notify]] hook: HOOK_URL must hold an http:// or https:// URL" in result.output
    assert TOKEN not in result.output


def test_notify_test_sends_a_signed_test_message_to_the_named_target(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_webhook_env(monkeypatch, f"{receiver.url}/hooks/{TOKEN}", KEY)
    config, db = setup(tmp_path, HOOK)

    result = invoke(config, "notify", "test", "hook", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"target": "hook", "sent": True, "error": None}]
    [request] = receiver.received
    assert request.headers["x-model-monitor-event"] == "test"
    assert request.headers["x-model-monitor-signature"] == signature(KEY, request.body)
    assert request.json()["kind"] == "test"
    db.dispose()


def test_notify_test_exits_1_with_the_reason_when_the_target_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_webhook_env(monkeypatch, f"{Receiver().url}/hooks/{TOKEN}", KEY)
    config, db = setup(tmp_path, HOOK)

    result = invoke(config, "notify", "test")

    assert result.exit_code == 1
    assert "failed hook: cannot reach the webhook: [Errno 111] Connection refused" in result.output
    assert TOKEN not in result.output and KEY not in result.output
    db.dispose()


def test_notify_test_with_an_unknown_name_exits_2_naming_the_targets(tmp_path: Path) -> None:
    config, db = setup(tmp_path, HOOK + CHAT)

    result = invoke(config, "notify", "test", "nope", "--json")

    assert result.exit_code == 2
    error = json.loads(result.output[result.output.index("{") :])["error"]
    assert error["message"] == "no [[notify]] target named 'nope'; the targets are hook, chat"
    db.dispose()


def test_notify_list_json_shows_targets_and_pending_and_refused_rows_without_urls(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_webhook_env(monkeypatch, f"{receiver.url}/hooks/{TOKEN}", KEY)
    receiver.status = 410
    config, db = setup(tmp_path, HOOK)
    removed_model_notice(db, config)
    assert invoke(config, "notify", "flush").exit_code == 1
    removed_model_notice(db, config)

    result = invoke(config, "notify", "list", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["targets"] == [
        {
            "name": "hook",
            "type": "webhook",
            "service": "webhook",
            "url_env": "HOOK_URL",
            "url_set": True,
            "secret_env": "HOOK_KEY",
            "secret_set": True,
            "on": ["new_model", "regression", "drift", "retirement", "skipped"],
            "only_significant": False,
        }
    ]
    assert (data["pending"], data["stalled"], data["failed"]) == (1, 0, 1)
    assert [(n["status"], n["target"], n["kind"]) for n in data["notifications"]] == [
        ("pending", "hook", "retirement"),
        ("failed", "hook", "retirement"),
    ]
    assert data["notifications"][1]["last_error"].startswith("the webhook answered HTTP 410")
    assert TOKEN not in result.output and KEY not in result.output
    db.dispose()


def test_status_counts_pending_and_refused_notifications(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOK_URL", raising=False)
    config, db = setup(tmp_path, HOOK)
    removed_model_notice(db, config)
    with db.session() as s:
        s.add(
            Notification(
                dedupe_key="k", target="hook", kind="new_model", title="t", body="b", status="failed"
            )
        )

    result = invoke(config, "status", "--json")
    text = invoke(config, "status")

    data = json.loads(result.output)
    assert (data["notify_pending"], data["notify_stalled"], data["notify_failed"]) == (1, 0, 1)
    assert "notifications: 1 pending (0 stalled), 1 refused" in text.output
    db.dispose()


def test_the_outbox_job_sends_notifications_when_email_is_not_configured(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_webhook_env(monkeypatch, f"{receiver.url}/hooks", KEY)
    config, db = setup(tmp_path, HOOK)
    assert config.email is None
    removed_model_notice(db, config)

    _outbox(Runtime(config=config, db=db, worker_id="test"))

    assert len(receiver.received) == 1
    assert receiver.received[0].json()["events"][0]["model"] == "sim:old"
    db.dispose()
