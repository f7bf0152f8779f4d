"""A regression the daemon finds reaches the signed webhook, a chat target and the mailbox, once each."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from monitor.simulator import SimModel, Simulator
from tests.daemon_support import Workspace, wait_for
from tests.fixtures.smtp import SmtpServer
from tests.notify_receivers import Receiver, receiving

pytestmark = pytest.mark.slow

HIDDEN = 10**6  # release_after_polls: listed only once the test calls sim.release()
KEY = "whsec-daemon-key-91c3d5"
TOKEN = "daemon-T0KEN-6b2e8f0a"
NOTIFY = """
[reports]
base_url = "https://reports.example.com/monitor"

[[notify]]
name = "ops-hook"
type = "webhook"
url_env = "HOOK_URL"
secret_env = "HOOK_KEY"
on = ["regression"]

[[notify]]
name = "team-chat"
url_env = "CHAT_URL"
on = ["regression"]
only_significant = true
"""


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    with receiving() as hook, receiving() as chat:
        yield hook, chat


@pytest.fixture
def workspace(
    tmp_path: Path,
    make_simulator: Callable[..., Simulator],
    smtp_server: SmtpServer,
    receivers: tuple[Receiver, Receiver],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Workspace, Simulator]]:
    hook, chat = receivers
    monkeypatch.setenv("HOOK_URL", f"{hook.url}/hooks/{TOKEN}")
    monkeypatch.setenv("HOOK_KEY", KEY)
    monkeypatch.setenv("CHAT_URL", f"json://127.0.0.1:{chat.port}/chat/{TOKEN}")
    sim = make_simulator(
        models=[
            SimModel("gpt-sim-base", skill=0.95, latency_ms=2.0, latency_jitter_ms=0),
            SimModel(
                "gpt-sim-worse", skill=0.2, latency_ms=2.0, latency_jitter_ms=0, release_after_polls=HIDDEN
            ),
        ]
    )
    made = Workspace(tmp_path, sim.base_url, smtp_server.port, suites={"sums": 30}, extra=NOTIFY)
    try:
        yield made, sim
    finally:
        made.close()


def database_dump(workspace: Workspace) -> str:
    engine = workspace.db.engine
    with engine.connect() as conn:
        tables = inspect(engine).get_table_names()
        return "\n".join(str(row) for name in tables for row in conn.execute(text(f'SELECT * FROM "{name}"')))


def test_a_regression_found_by_the_daemon_reaches_the_webhook_the_chat_and_the_mailbox_once_each(
    workspace: tuple[Workspace, Simulator],
    receivers: tuple[Receiver, Receiver],
    smtp_server: SmtpServer,
) -> None:
    ws, sim = workspace
    hook, chat = receivers
    daemon = ws.start_daemon("a")
    wait_for(lambda: ws.polls() >= 1, "the bootstrap poll")
    sim.release("gpt-sim-worse")

    wait_for(lambda: hook.received and chat.received and smtp_server.messages, "the three deliveries")
    polls_then = ws.polls()
    wait_for(lambda: ws.polls() >= polls_then + 3, "three more polls")

    assert daemon.alive()
    assert (len(hook.received), len(chat.received), len(smtp_server.messages)) == (1, 1, 1)
    [request] = hook.received
    signed = "sha256=" + hmac.new(KEY.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["x-model-monitor-signature"], signed)
    assert request.headers["x-model-monitor-event"] == "regression"
    payload = request.json()
    assert payload["event"]["model"] == "sim:gpt-sim-worse"
    assert payload["comparison"]["suites"][0]["paired"]["verdict"] == "worse"
    assert payload["report_url"].startswith("https://reports.example.com/monitor/events/")
    message = chat.received[0].json()
    assert message["title"].startswith("Regression: sim:gpt-sim-worse: worse on 1 of 1 suite")
    assert message["message"].splitlines()[-1] == f"Report: {payload['report_url']}"
    assert "sim:gpt-sim-worse" in smtp_server.messages[0].parsed()["Subject"]
    assert daemon.terminate() == 0
    for secret in (TOKEN, KEY):
        assert secret not in database_dump(ws)
        assert secret not in daemon.log()
