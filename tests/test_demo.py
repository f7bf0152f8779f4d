"""`model-monitor demo` end to end in a temporary directory: no keys, no config, run twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import pytest

from monitor.evals.loader import load_suites
from monitor.evals.variants import split_name
from tests.daemon_support import WAIT_S

pytestmark = pytest.mark.slow


def run_demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "MODEL_MONITOR_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "monitor", "demo", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )


def only(paths: list[Path]) -> Path:
    assert len(paths) == 1, paths
    return paths[0]


def test_demo_runs_the_whole_loop_offline_and_leaves_a_report_and_an_email(tmp_path: Path) -> None:
    done = run_demo(tmp_path)  # how long it takes is a figure of bench/demo_bench.py

    assert done.returncode == 0, done.stdout + done.stderr
    workspace = tmp_path / "model-monitor-demo"
    index = workspace / "reports" / "index.html"
    event_report = only(sorted((workspace / "reports" / "events").glob("*.html")))
    eml = only(sorted((workspace / "reports" / "mail").glob("*.eml")))
    for path in (index, event_report, eml):
        assert str(path) in done.stdout
    assert "sim:gpt-sim-next" in event_report.read_text()
    assert "Prompt variants" in event_report.read_text() and "Best pair" in event_report.read_text()
    message = cast(EmailMessage, message_from_bytes(eml.read_bytes(), policy=policy.default))
    assert "sim:gpt-sim-next" in str(message["Subject"])
    assert message.get_body(preferencelist=("plain",)) is not None
    assert message.get_body(preferencelist=("html",)) is not None
    assert "model-monitor daemon" in done.stdout


def test_demo_evaluates_every_example_suite_on_the_new_model_and_the_baseline(tmp_path: Path) -> None:
    assert run_demo(tmp_path).returncode == 0
    workspace = tmp_path / "model-monitor-demo"
    stems = sorted(p.stem for p in (workspace / "evals").glob("*.yaml"))
    # a new-model event evaluates each suite's own prompt and every prompt variant it declares
    suites = [spec.name for spec in load_suites(workspace / "evals", variant="all")]
    assert {split_name(name)[0] for name in suites} == set(stems)
    assert any(split_name(name)[1] for name in suites)
    with sqlite3.connect(workspace / "monitor.db") as conn:
        runs = conn.execute(
            "SELECT runs.model_id, suites.name, runs.status FROM runs "
            "JOIN suites ON suites.id = runs.suite_id"
        ).fetchall()
        events = conn.execute("SELECT kind, model_id, reported_at IS NOT NULL FROM events").fetchall()
    assert len(stems) >= 3
    assert sorted(runs) == sorted(
        [(model, suite, "done") for model in ("gpt-sim-base", "gpt-sim-next") for suite in suites]
    )
    assert ("new_model", "gpt-sim-next", 1) in events


def test_running_the_demo_twice_recreates_the_workspace_without_stale_data(tmp_path: Path) -> None:
    assert run_demo(tmp_path).returncode == 0
    workspace = tmp_path / "model-monitor-demo"
    (workspace / "reports" / "stale.html").write_text("from before")

    again = run_demo(tmp_path)

    assert again.returncode == 0, again.stdout + again.stderr
    assert not (workspace / "reports" / "stale.html").exists()
    only(sorted((workspace / "reports" / "mail").glob("*.eml")))
    with sqlite3.connect(workspace / "monitor.db") as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE kind = 'new_model'").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (1,)


def test_demo_refuses_a_folder_that_is_not_a_demo_workspace(tmp_path: Path) -> None:
    precious = tmp_path / "work" / "notes.txt"
    precious.parent.mkdir()
    precious.write_text("keep me")

    refused = run_demo(tmp_path, "--dir", str(precious.parent))

    assert refused.returncode == 2
    assert "not a model-monitor demo workspace" in refused.stderr
    assert precious.read_text() == "keep me"
    assert sorted(p.name for p in precious.parent.iterdir()) == ["notes.txt"]


def test_demo_keep_serves_the_simulator_until_interrupted(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MODEL_MONITOR_CONFIG"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "monitor", "demo", "--keep"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None
        lines = []
        for line in demo.stdout:
            lines.append(line)
            if "Ctrl-C to stop" in line:
                break
        assert any("Ctrl-C to stop" in line for line in lines), "".join(lines)
        config = tmp_path / "model-monitor-demo" / "monitor.toml"
        polled = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), "poll", "--json"],
            env={**env, "MODEL_MONITOR_SIM_KEY": "sim-key"},
            capture_output=True,
            text=True,
            timeout=WAIT_S,
        )
        assert polled.returncode == 0, polled.stdout + polled.stderr
        assert json.loads(polled.stdout)["ok"] is True
    finally:
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=WAIT_S) == 0
